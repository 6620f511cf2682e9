import { startScenario } from './lib/scenario.js';
const s = await startScenario({ database: 'sqlite', devices: Number(process.env.N ?? 2000), behaviour: 'count', workers: 2 });
console.log('connect ms', s.fleet.connectMs, 'cpu', s.server.cpuSeconds(), 'rss', s.server.memory());
await s.stop(); process.exit(0);
