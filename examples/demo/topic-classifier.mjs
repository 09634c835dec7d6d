// The demo's model selector: a multinomial naive Bayes topic classifier, trained when the server starts from
// the labelled sentences in topics.tsv. It picks, for each question, the one LLM endpoint of its topic.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelSelector, SgError } from 'servegraph';

const DEFAULT_DATA = fileURLToPath(new URL('./topics.tsv', import.meta.url));

// Words that say nothing about a topic; dropping them keeps the small training set from learning noise.
const STOP_WORDS = new Set(
  `a about after an and any are as ask at be before best better by can could did do does during each every
  explain first for from get give good have help how i if in into is it its just keep know long make many me
  more much my need new not of off on one only or our out over please should show so some still tell than
  that the their there these this to too two up us use want was way we what when where which who why will
  with without would you your`.split(/\s+/),
);

/** A crude stem: 'trains' and 'train', 'baking' and 'bake' count as one word on so little data. */
function stem(word) {
  if (word.length <= 4) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  for (const suffix of ['ing', 'ed', 'es', 's']) {
    if (word.endsWith(suffix) && !word.endsWith('ss')) return word.slice(0, -suffix.length);
  }
  return word;
}

/** Lower-case, stemmed word tokens of a text, stop words and one-letter words removed. */
export function tokenize(text) {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 1 && !STOP_WORDS.has(w)).map(stem);
}

/** The `{ label, text }` examples of a `label<TAB>text` file; blank lines and `#` comments are skipped. */
export function readExamples(file) {
  const examples = [];
  for (const [i, line] of readFileSync(file, 'utf8').split(/\r?\n/).entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const tab = line.indexOf('\t');
    if (tab <= 0 || tab === line.length - 1) {
      throw new SgError('SG_ERR_INVALID_OPTION', `${file}:${i + 1}: expected 'label<TAB>text', got '${line}'`, {
        details: { file, line: i + 1 },
      });
    }
    examples.push({ label: line.slice(0, tab).trim(), text: line.slice(tab + 1).trim() });
  }
  return examples;
}

/**
 * Multinomial naive Bayes over word counts with Laplace smoothing: deterministic, trained in a few
 * milliseconds, and good enough to tell a bank question from a train question.
 */
export class NaiveBayes {
  constructor(examples, { alpha = 1 } = {}) {
    if (examples.length === 0) throw new SgError('SG_ERR_INVALID_OPTION', 'the classifier needs training examples');
    this.alpha = alpha;
    this.labels = [...new Set(examples.map((e) => e.label))].sort();
    this.vocabulary = new Set();
    this.docs = new Map(this.labels.map((l) => [l, 0]));
    this.counts = new Map(this.labels.map((l) => [l, new Map()]));
    this.totals = new Map(this.labels.map((l) => [l, 0]));
    for (const { label, text } of examples) {
      this.docs.set(label, this.docs.get(label) + 1);
      const counts = this.counts.get(label);
      for (const word of tokenize(text)) {
        this.vocabulary.add(word);
        counts.set(word, (counts.get(word) ?? 0) + 1);
        this.totals.set(label, this.totals.get(label) + 1);
      }
    }
    this.size = examples.length;
  }

  /** Each label's probability for `text`, highest first (ties in label order). */
  probabilities(text) {
    const words = tokenize(text).filter((w) => this.vocabulary.has(w));
    const logs = this.labels.map((label) => {
      const counts = this.counts.get(label);
      const denominator = this.totals.get(label) + this.alpha * this.vocabulary.size;
      let log = Math.log(this.docs.get(label) / this.size);
      for (const w of words) log += Math.log(((counts.get(w) ?? 0) + this.alpha) / denominator);
      return log;
    });
    const max = Math.max(...logs);
    const sum = logs.reduce((s, l) => s + Math.exp(l - max), 0);
    return this.labels
      .map((label, i) => ({ label, probability: Math.exp(logs[i] - max) / sum }))
      .sort((a, b) => b.probability - a.probability);
  }

  /** The most likely label of `text`. */
  classify(text) {
    return this.probabilities(text)[0].label;
  }
}

/**
 * Selects the endpoint named after the question's topic. Parameters (`modelSelectorParameters`):
 * `dataFile`, the training file (default: topics.tsv beside this module).
 */
export class TopicSelector extends ModelSelector {
  constructor(params = {}) {
    super(params);
    this.classifier = new NaiveBayes(readExamples(params.dataFile ?? DEFAULT_DATA));
  }

  select(event) {
    return [this.classifier.classify(event.body.text)];
  }
}
