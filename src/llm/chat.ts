/** One text part of an OpenAI content-part array; other part kinds (images, audio) pass through untouched. */
export type ContentPart = { type: string; text?: string; [field: string]: unknown };

/** A chat message (llm.md section 3.1). */
export type ChatMessage = { role: string; content: string | ContentPart[]; name?: string };

/** Why generation ended: OpenAI's names, or whatever a server sends. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | (string & {});

/** The text of a message's content: the string, or its text parts joined with ''. */
export function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  let out = '';
  for (const part of content) if (typeof part?.text === 'string') out += part.text;
  return out;
}
