// servegraph/testing: LLM test servers speaking the real wire protocols on loopback (llm.md section 5).
export { startOpenAITestServer } from './openai-server.js';
export type { TestServerOptions, TestServerOverrides } from './options.js';
export type { RecordedRequest } from './recorder.js';
export type { TestServer } from './server-core.js';
export { startTgiTestServer } from './tgi-server.js';
