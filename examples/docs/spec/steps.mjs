// A user step named in greet.yaml as './steps.mjs#Greet'; its params arrive in the options.
import { Step } from 'servegraph';

export class Greet extends Step {
  constructor(options) {
    super(options);
    this.greeting = options.greeting ?? 'Hi';
  }

  do(body) {
    return `${this.greeting}, ${body.name}!`;
  }
}
