import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLMPromptArtifact, ModelArtifact } from 'servegraph';

const gpt = new ModelArtifact({
  key: 'gpt-mini',
  modelUrl: 'openai://gpt-4o-mini',
  defaultConfig: { temperature: 0.3 },
});
const finance = new LLMPromptArtifact({
  key: 'finance-prompt',
  modelArtifact: gpt,
  promptTemplate: [
    { role: 'system', content: 'You are a careful financial analyst.' },
    { role: 'user', content: 'Client {name} asks: {question}' },
  ],
  promptLegend: {
    name: { field: 'client.name', description: 'Display name of the client' },
    question: { field: 'q', description: 'The question, verbatim' },
  },
  invocationConfig: { max_tokens: 200 },
  providerOptions: { apiKeyEnv: 'FINANCE_OPENAI_KEY' },
});
const file = join(mkdtempSync(join(tmpdir(), 'prompts-')), 'finance.prompt.yaml');
await finance.save(file); // the format comes from the extension
process.stdout.write(await readFile(file, 'utf8'));
const same = await LLMPromptArtifact.load(file);
console.log('loaded:', same.key, same.modelUrl, same.promptTemplate.length, 'messages');
