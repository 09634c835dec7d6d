// Handlers named in greet.yaml as './handlers.mjs#name'.
import { SgError } from 'servegraph';

export function clean(body) {
  if (typeof body?.name !== 'string') {
    throw new SgError('SG_ERR_BAD_REQUEST', "expected an object with a string field 'name'", {
      details: { field: 'name' },
    });
  }
  return { ...body, name: body.name.trim() };
}

export function notEmpty(name) {
  return name !== '';
}

export function message(body) {
  return body.message;
}

export function describeError(event) {
  return { error: event.error.code, step: event.originStep };
}
