// The raw process floor: a forked child (advanced serialization) that sends back what it gets.
process.on('message', (m) => process.send(m));
process.on('disconnect', () => process.exit(0));
