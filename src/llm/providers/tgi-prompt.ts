import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { SgError } from '../../errors/index.js';
import { type ChatMessage, contentText } from '../chat.js';

/** Renders messages into TGI's one `inputs` string (llm.md section 3.5, "Prompt"). */
export type PromptRenderer = (messages: readonly ChatMessage[]) => string;

/** The fixed template used without a tokenizer: `<|role|>\ncontent\n` per message, then `<|assistant|>\n`. */
export const fixedTemplate: PromptRenderer = (messages) => {
  let out = '';
  for (const m of messages) out += `<|${m.role}|>\n${contentText(m.content)}\n`;
  return `${out}<|assistant|>\n`;
};

/** The chat template of `<tokenizerPath>/tokenizer_config.json`, rendered with @huggingface/jinja. */
export async function loadChatTemplate(tokenizerPath: string, label: string): Promise<PromptRenderer> {
  const file = join(tokenizerPath, 'tokenizer_config.json');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    const code =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'SG_ERR_ARTIFACT_NOT_FOUND' : 'SG_ERR_INVALID_OPTION';
    throw new SgError(code, `${label}: tokenizerPath: cannot read '${file}': ${(err as Error).message}`, {
      details: { field: 'providerOptions.tokenizerPath', path: file },
      cause: err,
    });
  }
  const source = pickTemplate(config.chat_template);
  if (source === undefined) {
    throw new SgError('SG_ERR_INVALID_OPTION', `${label}: tokenizerPath: '${file}' has no chat_template`, {
      details: { field: 'providerOptions.tokenizerPath', path: file },
    });
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `${label}: the chat_template of '${file}' does not parse: ${(err as Error).message}`,
      {
        details: { field: 'providerOptions.tokenizerPath', path: file },
        cause: err,
      },
    );
  }
  const bos_token = tokenText(config.bos_token);
  const eos_token = tokenText(config.eos_token);
  return (messages) =>
    template.render({
      messages: messages.map((m) => ({ ...m, content: contentText(m.content) })),
      bos_token,
      eos_token,
      add_generation_prompt: true,
    });
}

/** chat_template is a string, or a list of {name, template} (the 'default' one is used). */
function pickTemplate(t: unknown): string | undefined {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x) => x?.name === 'default') ?? t[0];
    return typeof named?.template === 'string' ? named.template : undefined;
  }
  return undefined;
}

/** A special token is a string or an object with `content`. */
function tokenText(t: unknown): string {
  if (typeof t === 'string') return t;
  const c = (t as { content?: unknown } | null)?.content;
  return typeof c === 'string' ? c : '';
}
