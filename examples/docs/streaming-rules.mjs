import { Batch, Collector, createGraph, MapStep } from 'servegraph';

const words = () =>
  new MapStep({
    name: 'words',
    handler: async function* (text) {
      yield* text.split(' ');
    },
  });
const letters = () =>
  new MapStep({
    name: 'letters',
    handler: async function* (word) {
      yield* word;
    },
  });
const show = (graph) => {
  try {
    graph.validate();
    console.log('valid');
  } catch (err) {
    console.log(`${err.code}: ${err.message}`);
  }
};

const onStream = createGraph();
onStream.to(words()).to(letters());
show(onStream);

const intoBatch = createGraph();
intoBatch.to(words()).to(new Batch({ name: 'batch', maxEvents: 4 }));
show(intoBatch);

const merge = createGraph();
const prep = merge.to(new MapStep({ name: 'prep', handler: (b) => b }));
prep.to(words());
prep.to(new MapStep({ name: 'lookup', handler: (b) => b }));
merge.add(new MapStep({ name: 'join', handler: (b) => b }), { after: ['words', 'lookup'] });
show(merge);

const fixed = createGraph();
fixed
  .to(words())
  .to(new Collector({ name: 'collect' }))
  .to(letters());
show(fixed);

onStream.setStreaming(false); // nothing streams, no rule is checked
show(onStream);
