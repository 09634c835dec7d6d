import { describe, expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { LLMPromptArtifact } from '../../src/llm/prompt-artifact.js';
import { PROVIDER_DEFAULTS } from '../../src/llm/providers/options.js';
import type { ModelProvider, ProviderInit } from '../../src/llm/providers/provider.js';
import { createProvider, parseModelUrl, registerProvider } from '../../src/llm/providers/registry.js';
import { ModelArtifact } from '../../src/models/artifacts/model-artifact.js';
import {
  type Call,
  Impostor,
  InitKeeper,
  ShoutAsync,
  ShoutChild,
  ShoutInvoke,
  ShoutStream,
  Silent,
} from './provider-custom-classes.js';
import { cleanEnvEachTest, messages, providerFor, rejectsSg, throwsSg } from './provider-fixtures.js';

cleanEnvEachTest();

const BUILTIN = ['openai', 'huggingface', 'hf', 'transformers', 'embedded'];

describe('parseModelUrl', () => {
  it('keeps everything after :// verbatim as the model id, "/" and ":" included', () => {
    expect(parseModelUrl('openai://meta-llama/Llama-3.1-8B-Instruct')).toEqual({
      scheme: 'openai',
      model: 'meta-llama/Llama-3.1-8B-Instruct',
    });
    expect(parseModelUrl('openai://llama3.2:1b')).toEqual({ scheme: 'openai', model: 'llama3.2:1b' });
    expect(parseModelUrl('huggingface://org/model')).toEqual({ scheme: 'huggingface', model: 'org/model' });
    expect(parseModelUrl('hf://org/model:rev')).toEqual({ scheme: 'hf', model: 'org/model:rev' });
    expect(parseModelUrl('openai://a//b?c=d#e')).toEqual({ scheme: 'openai', model: 'a//b?c=d#e' });
  });

  it('transformers:// is reserved and parses', () => {
    expect(parseModelUrl('transformers://./models/tiny')).toEqual({ scheme: 'transformers', model: './models/tiny' });
  });

  it('embedded:// means embedded://demo', () => {
    expect(parseModelUrl('embedded://')).toEqual({ scheme: 'embedded', model: 'demo' });
    expect(parseModelUrl('embedded://demo')).toEqual({ scheme: 'embedded', model: 'demo' });
  });

  it('an unknown scheme is SG_ERR_MODEL_URL_INVALID whose message lists the known schemes', () => {
    const err = throwsSg(() => parseModelUrl('nosuch://m', 'finance'), 'SG_ERR_MODEL_URL_INVALID');
    for (const s of BUILTIN) expect(err.message).toContain(s);
    expect(err.message).toContain('nosuch');
    expect(err.message).toContain("endpoint 'finance'");
    expect(err.endpoint).toBe('finance');
  });

  it('the known schemes listed include the registered ones', () => {
    registerProvider('listed-scheme', ShoutInvoke);
    const err = throwsSg(() => parseModelUrl('other://m'), 'SG_ERR_MODEL_URL_INVALID');
    expect(err.message).toContain('listed-scheme');
  });

  it('an empty model id is SG_ERR_MODEL_URL_INVALID (but for embedded)', () => {
    for (const url of ['openai://', 'huggingface://', 'hf://'])
      throwsSg(() => parseModelUrl(url), 'SG_ERR_MODEL_URL_INVALID');
  });

  it('garbage is SG_ERR_MODEL_URL_INVALID', () => {
    for (const url of [
      '',
      'gpt-4o',
      'openai:/x',
      'openai:x',
      '://x',
      ' openai://x',
      '1abc://x',
      42,
      null,
      undefined,
      {},
    ]) {
      throwsSg(() => parseModelUrl(url), 'SG_ERR_MODEL_URL_INVALID');
    }
  });

  it('createProvider rejects an invalid URL with the endpoint named', async () => {
    const err = await rejectsSg(providerFor('nosuch://m'), 'SG_ERR_MODEL_URL_INVALID');
    expect(err.message).toContain("endpoint 'e'");
  });
});

describe('registerProvider', () => {
  it('never replaces a built-in scheme, even with override', () => {
    for (const s of BUILTIN) {
      throwsSg(() => registerProvider(s, ShoutInvoke), 'SG_ERR_DUPLICATE_PROVIDER');
      throwsSg(() => registerProvider(s, ShoutInvoke, { override: true }), 'SG_ERR_DUPLICATE_PROVIDER');
    }
  });

  it('registering the same class twice is fine; another class is SG_ERR_DUPLICATE_PROVIDER unless override', async () => {
    registerProvider('dup-scheme', ShoutInvoke);
    registerProvider('dup-scheme', ShoutInvoke);
    throwsSg(() => registerProvider('dup-scheme', ShoutAsync), 'SG_ERR_DUPLICATE_PROVIDER');
    expect(await providerFor('dup-scheme://m')).toBeInstanceOf(ShoutInvoke);
    registerProvider('dup-scheme', ShoutAsync, { override: true });
    const p = await providerFor('dup-scheme://m');
    expect(p).toBeInstanceOf(ShoutAsync);
  });

  it('a scheme not matching ^[a-z][a-z0-9+.-]*$ is SG_ERR_INVALID_OPTION', () => {
    for (const s of ['', 'Bad', '1abc', 'a_b', 'a b', 'a://', '-x']) {
      throwsSg(() => registerProvider(s, ShoutInvoke), 'SG_ERR_INVALID_OPTION');
    }
    registerProvider('ok+v1.2-x', ShoutInvoke);
    expect(parseModelUrl('ok+v1.2-x://m')).toEqual({ scheme: 'ok+v1.2-x', model: 'm' });
  });

  it('a class implementing neither invoke nor invokeAsync is SG_ERR_INVALID_OPTION', () => {
    throwsSg(() => registerProvider('silent-scheme', Silent), 'SG_ERR_INVALID_OPTION');
    expect(() => parseModelUrl('silent-scheme://m')).toThrow();
  });

  it('something not a ModelProvider class is SG_ERR_INVALID_OPTION', () => {
    const notClasses: unknown[] = [Impostor, () => ({}), {}, undefined, 'NoHashReference', 42];
    for (const c of notClasses) {
      throwsSg(() => registerProvider('not-a-class', c as typeof ShoutInvoke), 'SG_ERR_INVALID_OPTION');
    }
  });

  it('a subclass of a registered subclass inherits its invoke and registers', async () => {
    registerProvider('child-scheme', ShoutChild);
    const p = await providerFor('child-scheme://m');
    expect(await p.invoke([{ role: 'user', content: 'hey' }], {}, { responseFormat: 'string' })).toBe('HEY');
  });

  it("a 'module#Export' string is imported when first used", async () => {
    registerProvider('ref-scheme', './test/llm/provider-custom-classes.ts#ShoutInvoke');
    const p = await createProvider({
      modelArtifact: new ModelArtifact({ key: 'm', modelUrl: 'ref-scheme://m' }),
      endpoint: 'e',
      baseDir: process.cwd(),
    });
    expect(p.constructor.name).toBe('ShoutInvoke');
    expect(await p.invoke([{ role: 'user', content: 'ref' }], {}, { responseFormat: 'string' })).toBe('REF');
  });

  it("a 'module#Export' string naming no provider class fails when first used with SG_ERR_INVALID_CLASS", async () => {
    registerProvider('badref-scheme', './test/llm/provider-custom-classes.ts#Impostor');
    const modelArtifact = new ModelArtifact({ key: 'm', modelUrl: 'badref-scheme://m' });
    await rejectsSg(createProvider({ modelArtifact, endpoint: 'e', baseDir: process.cwd() }), 'SG_ERR_INVALID_CLASS');
  });
});

describe('custom providers: the base class', () => {
  const msgs = [{ role: 'user', content: 'hello' }];
  const expected = { answer: 'HELLO', usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } };

  it('a subclass with only invoke gets invokeAsync from the base, forwarding config and options', async () => {
    registerProvider('only-invoke', ShoutInvoke);
    const p = (await providerFor('only-invoke://m')) as ShoutInvoke;
    const signal = new AbortController().signal;
    expect(await p.invokeAsync(msgs, { temperature: 0 }, { signal })).toStrictEqual(expected);
    expect(await p.invokeAsync(msgs, {}, { responseFormat: 'string' })).toBe('HELLO');
    expect(p.calls.map((c) => c.method)).toEqual(['invoke', 'invoke']);
    expect(p.calls[0].config).toEqual({ temperature: 0 });
    expect((p.calls[0].options as { signal: AbortSignal }).signal).toBe(signal);
  });

  it('a subclass with only invokeAsync gets invoke from the base', async () => {
    registerProvider('only-async', ShoutAsync);
    const p = (await providerFor('only-async://m')) as ShoutAsync;
    expect(await p.invoke(msgs, { top_p: 1 }, { responseFormat: 'usage' })).toStrictEqual(expected);
    expect(p.calls.map((c: Call) => c.method)).toEqual(['invokeAsync']);
    expect(p.calls[0].config).toEqual({ top_p: 1 });
  });

  it('supportsStreaming is false without stream, and the base stream throws SG_ERR_PROVIDER_CAPABILITY', async () => {
    registerProvider('no-stream', ShoutInvoke);
    const p = await providerFor('no-stream://m');
    expect(p.supportsStreaming).toBe(false);
    await rejectsSg(p.stream(msgs)[Symbol.asyncIterator]().next(), 'SG_ERR_PROVIDER_CAPABILITY');
  });

  it('supportsStreaming is true with stream', async () => {
    registerProvider('with-stream', ShoutStream);
    const p = await providerFor('with-stream://m');
    expect(p.supportsStreaming).toBe(true);
    const parts = [];
    for await (const part of p.stream(msgs)) parts.push(part);
    expect(parts.at(-1)).toMatchObject({ type: 'done', answer: 'HELLO' });
  });

  it('client is undefined, load and close resolve', async () => {
    registerProvider('plain-base', ShoutInvoke);
    const p = await providerFor('plain-base://m');
    expect(p.client).toBeUndefined();
    await expect(Promise.resolve(p.load())).resolves.toBeUndefined();
    await expect(Promise.resolve(p.close())).resolves.toBeUndefined();
  });

  it('the constructor receives the scheme, model, resolved options and defaultConfig, kept read-only', async () => {
    registerProvider('keeps-init', InitKeeper);
    process.env.OPENAI_API_KEY = 'sk-not-for-custom';
    const modelArtifact = new ModelArtifact({
      key: 'm',
      modelUrl: 'keeps-init://org/model:v1',
      defaultConfig: { temperature: 0, max_tokens: 9 },
      providerOptions: { custom: 'x', timeoutMs: 5, maxRetries: 1 },
    });
    const prompt = new LLMPromptArtifact({
      key: 'p',
      modelArtifact,
      promptTemplate: 'Hi',
      providerOptions: { timeoutMs: 7 },
    });
    const p = await createProvider({ modelArtifact, prompt, endpoint: 'e' });
    const init = InitKeeper.last as ProviderInit;
    expect(init.scheme).toBe('keeps-init');
    expect(init.model).toBe('org/model:v1');
    expect(init.options).toEqual({ ...PROVIDER_DEFAULTS, custom: 'x', timeoutMs: 7, maxRetries: 1 });
    expect(init.defaultConfig).toEqual({ temperature: 0, max_tokens: 9 });
    expect(p.scheme).toBe('keeps-init');
    expect(p.model).toBe('org/model:v1');
    expect(p.options).toEqual(init.options);
    expect(p.defaultConfig).toEqual(init.defaultConfig);
    const writable = p as unknown as Record<string, unknown>;
    for (const k of ['scheme', 'model', 'options', 'defaultConfig']) {
      expect(() => {
        writable[k] = 'changed';
      }, k).toThrow(TypeError);
    }
    expect(() => {
      (p.options as Record<string, unknown>).timeoutMs = 1;
    }).toThrow(TypeError);
    expect(p.options.timeoutMs).toBe(7);
  });
});

describe('custom providers: load failures', () => {
  function failing(where: 'constructor' | 'load', error: () => unknown) {
    return class extends ShoutInvoke {
      constructor(init: ProviderInit) {
        super(init);
        if (where === 'constructor') throw error();
      }
      override async load(): Promise<void> {
        if (where === 'load') throw error();
      }
    };
  }

  it('a non-SgError thrown in load() is SG_ERR_MODEL_LOAD naming the endpoint, the error as cause', async () => {
    const boom = new Error('weights missing');
    registerProvider(
      'load-fails',
      failing('load', () => boom),
    );
    const err = await rejectsSg(providerFor('load-fails://m'), 'SG_ERR_MODEL_LOAD');
    expect(err.cause).toBe(boom);
    expect(err.endpoint).toBe('e');
    expect(err.message).toContain("endpoint 'e'");
    expect(err.message).toContain('weights missing');
  });

  it('a non-SgError thrown by the constructor is SG_ERR_MODEL_LOAD', async () => {
    registerProvider(
      'ctor-fails',
      failing('constructor', () => new TypeError('bad init')),
    );
    const err = await rejectsSg(providerFor('ctor-fails://m'), 'SG_ERR_MODEL_LOAD');
    expect((err.cause as Error).message).toBe('bad init');
  });

  it('an SgError thrown in load() fails as it is', async () => {
    const own = new SgError('SG_ERR_PROVIDER_CREDENTIALS', 'my provider needs MY_TOKEN');
    registerProvider(
      'load-sg-fails',
      failing('load', () => own),
    );
    const err = await rejectsSg(providerFor('load-sg-fails://m'), 'SG_ERR_PROVIDER_CREDENTIALS');
    expect(err).toBe(own);
  });

  it('a provider is built per createProvider call', async () => {
    registerProvider('per-call', ShoutInvoke);
    const a: ModelProvider = await providerFor('per-call://m');
    const b: ModelProvider = await providerFor('per-call://m');
    expect(a).not.toBe(b);
    expect(await a.invoke(messages, {}, { responseFormat: 'string' })).toBe('SAY HELLO');
  });
});
