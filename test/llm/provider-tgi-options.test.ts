import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LLMPromptArtifact } from '../../src/llm/prompt-artifact.js';
import { HuggingFaceProvider } from '../../src/llm/providers/huggingface.js';
import { resolveProviderOptions } from '../../src/llm/providers/options.js';
import { countTokens } from '../../src/llm/usage.js';
import { startTgiTestServer } from '../../src/testing/index.js';
import {
  cleanEnvEachTest,
  closeServersAfterEach,
  collect,
  messages,
  providerFor,
  rejectsSg,
  tgiProvider,
  track,
} from './provider-fixtures.js';

closeServersAfterEach();
cleanEnvEachTest(['MY_HF_TOKEN']);

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
});

/** A temporary tokenizer folder holding `tokenizer_config.json` with `config`. */
async function tokenizerFolder(config: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-tokenizer-'));
  folders.push(dir);
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

const template =
  '{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>{% endfor %}' +
  '{% if add_generation_prompt %}<assistant>{% endif %}';

const inputsOf = (body: unknown) => (body as { inputs: string }).inputs;

describe('TGI provider: availability', () => {
  it('huggingface:// without endpointUrl is SG_ERR_PROVIDER_UNAVAILABLE at load, saying so', async () => {
    const err = await rejectsSg(providerFor('huggingface://org/model'), 'SG_ERR_PROVIDER_UNAVAILABLE');
    expect(err.message).toContain('hosted Hugging Face inference is not supported yet');
    expect(err.message).toContain('HF_ENDPOINT_URL');
    await rejectsSg(providerFor('hf://org/model', { apiKey: 'hf_x' }), 'SG_ERR_PROVIDER_UNAVAILABLE');
  });

  it('transformers:// is SG_ERR_PROVIDER_UNAVAILABLE at load', async () => {
    const err = await rejectsSg(providerFor('transformers://x'), 'SG_ERR_PROVIDER_UNAVAILABLE');
    expect(err.message).toContain('transformers:// local models are not supported yet');
  });

  it('reads HF_ENDPOINT_URL', async () => {
    const server = await track(startTgiTestServer({ answer: 'env endpoint' }));
    process.env.HF_ENDPOINT_URL = server.url;
    const p = await providerFor('hf://org/model');
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('env endpoint');
    expect(server.requests).toHaveLength(1);
  });

  it('endpointUrl of the prompt > of the model > HF_ENDPOINT_URL', async () => {
    const [a, b, c] = await Promise.all(
      ['prompt', 'model', 'env'].map((answer) => track(startTgiTestServer({ answer }))),
    );
    process.env.HF_ENDPOINT_URL = c.url;
    const prompt = new LLMPromptArtifact({
      key: 'p',
      modelUrl: 'hf://m/x',
      promptTemplate: 'Hi',
      providerOptions: { endpointUrl: a.url },
    });
    const answers = [];
    for (const p of [
      await providerFor('hf://m/x', { endpointUrl: b.url }, { prompt }),
      await providerFor('hf://m/x', { endpointUrl: b.url }),
      await providerFor('hf://m/x'),
    ])
      answers.push(await p.invoke(messages, {}, { responseFormat: 'string' }));
    expect(answers).toEqual(['prompt', 'model', 'env']);
  });
});

describe('TGI provider: token', () => {
  it('sends no Authorization without a token', async () => {
    const server = await track(startTgiTestServer());
    const p = await tgiProvider(server);
    await p.invoke(messages);
    expect(server.requests[0].headers).not.toHaveProperty('authorization');
  });

  it('sends apiKey as Authorization: Bearer, on /generate and /generate_stream', async () => {
    const server = await track(startTgiTestServer());
    const p = await tgiProvider(server, { apiKey: 'hf_code' });
    await p.invoke(messages);
    await collect(p.stream(messages));
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer hf_code', 'Bearer hf_code']);
  });

  it('reads HF_TOKEN, or the variable apiKeyEnv names; apiKey wins over both', async () => {
    const server = await track(startTgiTestServer());
    process.env.HF_TOKEN = 'hf_env';
    process.env.MY_HF_TOKEN = 'hf_mine';
    for (const options of [{}, { apiKeyEnv: 'MY_HF_TOKEN' }, { apiKey: 'hf_code', apiKeyEnv: 'MY_HF_TOKEN' }]) {
      const p = await tgiProvider(server, options);
      await p.invoke(messages);
    }
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer hf_env',
      'Bearer hf_mine',
      'Bearer hf_code',
    ]);
  });

  it('never puts the token in error messages or details', async () => {
    const server = await track(startTgiTestServer({ status: 401 }));
    const p = await tgiProvider(server, { apiKey: 'hf_secret_777' });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(err.message).not.toContain('hf_secret_777');
    expect(JSON.stringify(err.details)).not.toContain('hf_secret_777');
  });
});

describe('TGI provider: chat template from tokenizerPath', () => {
  it("renders the messages with the folder's chat_template, bos_token and the generation prompt", async () => {
    const dir = await tokenizerFolder({ chat_template: template, bos_token: '<s>', eos_token: '</s>' });
    const server = await track(startTgiTestServer({ answer: 'ok' }));
    const p = await tgiProvider(server, { tokenizerPath: dir });
    await p.invoke(messages);
    await collect(p.stream(messages));
    const expected = '<s><system>You are terse.</system><user>Say hello</user><assistant>';
    expect(server.requests.map((r) => inputsOf(r.body))).toEqual([expected, expected]);
  });

  it('takes special tokens given as objects, eos_token included, and a named template list', async () => {
    const tpl = '{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}';
    const dir = await tokenizerFolder({
      chat_template: [
        { name: 'tool_use', template: 'TOOLS' },
        { name: 'default', template: tpl },
      ],
      bos_token: { content: '<bos>', lstrip: false },
      eos_token: { content: '<eos>' },
    });
    const server = await track(startTgiTestServer({ answer: 'ok' }));
    const p = await tgiProvider(server, { tokenizerPath: dir });
    await p.invoke([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
    ]);
    expect(inputsOf(server.requests[0].body)).toBe('<bos>ab<eos>');
  });

  it('the prompt count of a usage without prefill is made over the rendered inputs', async () => {
    const dir = await tokenizerFolder({ chat_template: template, bos_token: '<s>' });
    const server = await track(startTgiTestServer({ answer: 'ok', prefill: false, usage: { completion_tokens: 1 } }));
    const p = await tgiProvider(server, { tokenizerPath: dir });
    const rendered = '<s><system>You are terse.</system><user>Say hello</user><assistant>';
    const prompt = countTokens(rendered);
    expect(((await p.invoke(messages)) as { usage: unknown }).usage).toStrictEqual({
      prompt_tokens: prompt,
      completion_tokens: 1,
      total_tokens: prompt + 1,
      estimated: true,
    });
  });

  it('a missing tokenizerPath folder is SG_ERR_ARTIFACT_NOT_FOUND at load', async () => {
    const server = await track(startTgiTestServer());
    const missing = join(tmpdir(), `sg-no-such-tokenizer-${process.pid}-${Date.now()}`);
    const err = await rejectsSg(tgiProvider(server, { tokenizerPath: missing }), 'SG_ERR_ARTIFACT_NOT_FOUND');
    expect(err.message).toContain(missing);
    expect(server.requests).toHaveLength(0);
  });

  it('can be built directly, loading its template in load()', async () => {
    const dir = await tokenizerFolder({ chat_template: template, bos_token: '' });
    const server = await track(startTgiTestServer({ answer: 'direct' }));
    const options = resolveProviderOptions({ model: { endpointUrl: server.url, tokenizerPath: dir } });
    const p = new HuggingFaceProvider({ scheme: 'huggingface', model: 'org/model', options, defaultConfig: {} });
    await p.load();
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('direct');
    expect(inputsOf(server.requests[0].body)).toBe('<system>You are terse.</system><user>Say hello</user><assistant>');
    await p.close();
  });
});
