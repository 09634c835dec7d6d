// The demo's non-LLM model: AFINN-165 sentiment from the `sentiment` package (MIT, pure JavaScript). It runs
// in a worker thread (`thread_pool`), so its CPU work never holds up the event loop that streams answers.
import Sentiment from 'sentiment';
import { Model } from 'servegraph';

export class SentimentModel extends Model {
  load() {
    this.analyzer = new Sentiment();
  }

  /** `{ score, comparative, label, words }` for a text; `label` is positive, negative or neutral. */
  predict(text) {
    const { score, comparative, positive, negative } = this.analyzer.analyze(text);
    return {
      score,
      comparative: Math.round(comparative * 1000) / 1000,
      label: score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral',
      words: [...positive, ...negative],
    };
  }
}
