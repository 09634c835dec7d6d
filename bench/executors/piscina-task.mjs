// The raw thread floor: a bare piscina task that returns its input.
export default function echo(input) {
  return input;
}
