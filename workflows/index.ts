// Every workflow the replup worker serves; bundled into Temporal's deterministic sandbox.
export { personalizationUpgrade } from './personalization-upgrade.js';
export { fanOutBatch } from './engine/fan-out.js';
export { bdbReplicant } from './bdb-replicant.js';
export { openEdgeStartup } from './openedge-startup.js';
export { agentSchedules } from './agent-schedules.js';
export { setupReplication } from './setup-replication.js';
export { addSubscriber } from './add-subscriber.js';
export { removeSubscriber } from './remove-subscriber.js';
