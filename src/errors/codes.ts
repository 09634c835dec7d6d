/**
 * Every SG_ERR_… code servegraph raises, in one place, with the HTTP status the code maps to
 * (http.md, "Errors") and the page that defines it. Codes with `status: 500` and `when: 'build'`
 * never reach a client: they are raised while building, validating or starting a graph.
 */
export type CodeInfo = {
  readonly status: number;
  /** 'build': build, validation or start-up time; 'run': while an event is processed. */
  readonly when: 'build' | 'run';
  readonly page: string;
  readonly summary: string;
};

const b = (page: string, summary: string): CodeInfo => ({ status: 500, when: 'build', page, summary });
const r = (status: number, page: string, summary: string): CodeInfo => ({ status, when: 'run', page, summary });

export const ERROR_CODES = {
  // graph.md
  SG_ERR_INVALID_OPTION: b(
    'graph.md',
    'a constructor or method option is missing, of the wrong type, unknown, or conflicts with another',
  ),
  SG_ERR_DUPLICATE_STEP: b('graph.md', 'a step name is taken, or the instance already belongs to a graph'),
  SG_ERR_UNKNOWN_STEP: b('graph.md', '`after`, `before`, `onError` or a handler names a missing step'),
  SG_ERR_STEP_NOT_IN_GRAPH: b('graph.md', '`to()` or `errorHandler()` on a step not added to a graph'),
  SG_ERR_GRAPH_CYCLE: b('graph.md', "an edge or a handler's `before` would form a loop"),
  SG_ERR_MULTIPLE_RESPONDERS: b('graph.md', 'more than one step marked with `respond()`'),
  SG_ERR_EMPTY_GRAPH: b('graph.md', 'a server is created from a graph without steps'),
  SG_ERR_INVALID_ERROR_HANDLER: b(
    'graph.md',
    'an error handler is not a MapStep or user step, has upstream steps, is the responder, or handles itself',
  ),
  SG_ERR_GRAPH_IN_USE: b('graph.md', 'the graph is changed, or served twice, while a server from it is open'),
  SG_ERR_INVALID_SPEC: b('graph.md', 'a spec file cannot be parsed or does not match the schema'),
  SG_ERR_NOT_SERIALIZABLE: b(
    'graph.md',
    '`toSpec()` meets an unregistered in-memory function or class, or a function-valued option',
  ),
  SG_ERR_DUPLICATE_CLASS: b('graph.md', '`registerClass` with a taken name (or a built-in name)'),
  SG_ERR_UNKNOWN_CLASS: b('graph.md', 'a class reference names nothing, or the module lacks the export'),
  SG_ERR_MODULE_LOAD: b('graph.md', 'a referenced module cannot be imported'),
  SG_ERR_INVALID_CLASS: b('graph.md', 'a reference resolves to the wrong kind of thing'),
  SG_ERR_STEP_INIT: b('graph.md', "a step's `init()` threw at start-up"),
  SG_ERR_STEP_FAILED: r(
    500,
    'graph.md',
    'a handler or `do()` threw or rejected with something other than an `SgError`',
  ),
  SG_ERR_PATH_TARGET: r(
    400,
    'graph.md',
    '`inputPath`/`resultPath` used on a body, or through a value, that is not an object or array',
  ),
  SG_ERR_CHOICE_INVALID: r(
    500,
    'graph.md',
    'a `Choice` result names anything but distinct downstream steps of its own, or the `Choice` has none',
  ),
  SG_ERR_FLATMAP_RESULT: r(500, 'graph.md', "a `FlatMap` handler's result is not an iterable (or is a string)"),
  SG_ERR_NOT_CLONEABLE: r(500, 'graph.md', 'event data cannot be copied with `structuredClone`'),
  SG_ERR_NO_RESPONDER: b('graph.md', '`testStream()` on a graph without a responder (mock server only)'),
  SG_ERR_SERVER_CLOSED: r(
    503,
    'graph.md',
    'an event is sent after `close()`, or is still in flight when the grace period ends',
  ),
  // batching.md
  SG_ERR_BATCH_KEY: r(400, 'batching.md', "an event's group key is not a string, number, boolean, null or undefined"),
  SG_ERR_BATCH_SIZE_MISMATCH: r(
    500,
    'batching.md',
    "a split or a model's batch output does not have one item per member",
  ),
  SG_ERR_STREAM_BATCH: b('batching.md', "a Batch's output would reach a streaming step or model (not supported yet)"),
  // streaming.md
  SG_ERR_STREAM_ON_STREAM: b('streaming.md', 'a streaming step would receive a stream'),
  SG_ERR_STREAM_NOT_ACCEPTED: b('streaming.md', 'a stream would reach a Batch'),
  SG_ERR_STREAM_MERGE: b('streaming.md', 'a stream would reach a merge uncollected'),
  SG_ERR_STREAM_PARALLEL: b('streaming.md', 'a runner with a streaming model and another model has no selector'),
  SG_ERR_STREAM_MECHANISM: b('streaming.md', 'a streaming model runs in `process_pool` or `dedicated_process`'),
  SG_ERR_STREAM_SELECTION: r(500, 'streaming.md', 'the selector picked a streaming model and another'),
  SG_ERR_STREAM_UNDECLARED: r(
    500,
    'streaming.md',
    "a step not declared streaming, or a model's `predict`, returned an async iterable",
  ),
  SG_ERR_STREAM_TIMEOUT: r(504, 'streaming.md', "a Collector's `timeoutMs` or `idleTimeoutMs` passed"),
  SG_ERR_STREAM_TOO_LARGE: r(500, 'streaming.md', "a stream exceeded a Collector's `maxChunks`"),
  SG_ERR_CLIENT_CLOSED: r(499, 'streaming.md', 'the consumer went away (abort reason; never sent to anyone)'),
  // model-runner.md
  SG_ERR_MODEL_ARTIFACT_INVALID: b('model-runner.md', 'a `ModelArtifact` field is missing or malformed'),
  SG_ERR_INVALID_MECHANISM: b('model-runner.md', '`executionMechanism` missing or not one of the valid values'),
  SG_ERR_DUPLICATE_ENDPOINT: b('model-runner.md', 'an endpoint name is already used in the step or the graph'),
  SG_ERR_NO_MODELS: b('model-runner.md', 'a `ModelRunnerStep` has no endpoint at validation'),
  SG_ERR_NOT_WORKER_LOADABLE: b(
    'model-runner.md',
    'a class given in a form a worker cannot import is used with a worker mechanism',
  ),
  SG_ERR_DUPLICATE_SHARED_MODEL: b('model-runner.md', '`addSharedModel` with a taken name and no `override`'),
  SG_ERR_UNKNOWN_SHARED_MODEL: b('model-runner.md', "a proxy's shared model cannot be found by name or artifact"),
  SG_ERR_SHARED_MODEL_MISMATCH: b(
    'model-runner.md',
    "a proxy's `sharedModelName` and `modelArtifact` point to different models",
  ),
  SG_ERR_AMBIGUOUS_SHARED_MODEL: b('model-runner.md', "a proxy's artifact matches several shared models"),
  SG_ERR_PREDICT_NOT_IMPLEMENTED: b(
    'model-runner.md',
    'a model class implements none of `predict`, `predictAsync`, `predictStream`',
  ),
  SG_ERR_MODEL_LOAD: b('model-runner.md', '`load()` threw at start-up (or in a replacement worker)'),
  SG_ERR_SELECTOR_FAILED: r(500, 'model-runner.md', '`select()` threw or rejected'),
  SG_ERR_SELECTOR_INVALID: r(500, 'model-runner.md', '`select()` returned a wrong type or a repeated endpoint'),
  SG_ERR_UNKNOWN_MODEL: r(500, 'model-runner.md', '`select()` named something that is not an endpoint of the step'),
  SG_ERR_MODEL_FAILED: r(
    500,
    'model-runner.md',
    "a model's `predict`/`predictAsync`/`predictStream` threw or rejected",
  ),
  SG_ERR_MODEL_TIMEOUT: r(504, 'model-runner.md', 'a call exceeded `timeoutMs`'),
  SG_ERR_WORKER_DIED: r(500, 'model-runner.md', 'the thread or process running a call or loading a model exited'),
  SG_ERR_MODEL_UNAVAILABLE: r(503, 'model-runner.md', "a model's pool has no worker left after failed restarts"),
  SG_ERR_MODEL_RUNNER: r(
    500,
    'model-runner.md',
    'with `raiseException: true`, one or more selected models failed (status: that of its cause)',
  ),
  // llm.md
  SG_ERR_PROMPT_ARTIFACT_INVALID: b('llm.md', 'bad artifact field, file version, message or legend shape'),
  SG_ERR_ARTIFACT_NOT_FOUND: b('llm.md', 'artifact file, `promptFile` or `tokenizerPath` folder missing'),
  SG_ERR_MODEL_URL_INVALID: b('llm.md', 'unparsable URL, unknown scheme, empty model id'),
  SG_ERR_PROVIDER_UNAVAILABLE: b('llm.md', 'a provider or mode not supported yet'),
  SG_ERR_PROVIDER_CREDENTIALS: b('llm.md', 'no API key / token where one is required'),
  SG_ERR_PROVIDER_CAPABILITY: b('llm.md', 'streaming asked of a provider that cannot stream'),
  SG_ERR_LLM_NO_PROVIDER: b('llm.md', 'no provider and no overridden predict'),
  SG_ERR_DUPLICATE_PROVIDER: b(
    'llm.md',
    '`registerProvider` with a built-in scheme, or a scheme registered with another class',
  ),
  SG_ERR_LLM_INPUT: r(400, 'llm.md', 'input not an object where placeholders need one; bad or missing `messages`'),
  SG_ERR_PROMPT_PLACEHOLDER_MISSING: r(400, 'llm.md', "a placeholder has no value (`onMissingPlaceholder: 'error'`)"),
  SG_ERR_PROVIDER_HTTP: r(502, 'llm.md', 'provider answered an error status (503 with `Retry-After` for a final 429)'),
  SG_ERR_PROVIDER_TIMEOUT: r(504, 'llm.md', '`timeoutMs` or `streamIdleTimeoutMs` expired after all retries'),
  SG_ERR_PROVIDER_UNREACHABLE: r(502, 'llm.md', 'connection refused, reset, DNS failure after all retries'),
  SG_ERR_PROVIDER_RESPONSE: r(502, 'llm.md', 'unparsable body or SSE event, no choices, several choices, bad content'),
  SG_ERR_ABORTED: r(500, 'llm.md', "the call's signal fired; status: that of the abort reason"),
  // http.md
  SG_ERR_BAD_JSON: r(400, 'http.md', 'the body does not parse as JSON, or holds a forbidden key'),
  SG_ERR_BAD_REQUEST: r(400, 'http.md', 'a malformed request otherwise'),
  SG_ERR_UNAUTHORIZED: r(401, 'http.md', 'missing or wrong bearer token'),
  SG_ERR_NOT_FOUND: r(404, 'http.md', 'no such route or OpenAI model id'),
  SG_ERR_METHOD_NOT_ALLOWED: r(405, 'http.md', 'wrong method on a reserved route'),
  SG_ERR_BODY_TOO_LARGE: r(413, 'http.md', 'the body is larger than `bodyLimit`'),
  SG_ERR_OVERLOADED: r(429, 'http.md', "`maxConcurrency` requests already in flight, or a model pool's queue is full"),
  SG_ERR_INTERNAL: r(500, 'http.md', 'a fault in servegraph itself'),
  SG_ERR_NOT_READY: r(503, 'http.md', 'a model is not loaded yet'),
  SG_ERR_TIMEOUT: r(504, 'http.md', '`requestTimeoutMs` passed'),
  // monitoring.md
  SG_ERR_MONITOR_STORE_URL: b('monitoring.md', 'unsupported store URL'),
  SG_ERR_MONITOR_SCHEMA: b('monitoring.md', 'store schema newer than this release, or a migration failed'),
  SG_ERR_MONITOR_STORE_UNAVAILABLE: r(503, 'monitoring.md', 'store cannot be opened or reached'),
  SG_ERR_TRACKING_DISABLED: r(409, 'monitoring.md', 'stats, series or calls asked with tracking off'),
  SG_ERR_ENDPOINT_NOT_FOUND: r(404, 'monitoring.md', 'no endpoint of that name (or uid) in this graph'),
  SG_ERR_MONITOR_QUERY: r(400, 'monitoring.md', 'bad `window`, `step`, `limit`, `outcome` or `uid`'),
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function codeInfo(code: string): CodeInfo | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
}
