export { type CodeInfo, codeInfo, ERROR_CODES, type ErrorCode } from './codes.js';
export { describe, placeError, SgError, type SgErrorOptions } from './sg-error.js';
export { errorText, toStepError } from './wrap.js';
