// The Redis Cluster tests, in one file so that they run one after the other:
// the node-loss case kills a master and the migration case moves a slot,
// which would disturb conformance cases running beside them in another file.
import "./conformance-cases.js";
import "./slot-cases.js";
import "./node-connection-cases.js";
import "./node-loss-cases.js";
