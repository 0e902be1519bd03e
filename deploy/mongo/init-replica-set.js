// Initiate the MongoDB replica set Glimpse runs on (run by the one-shot `mongo-init` service).
//
// Members come from GLIMPSE_RS_MEMBERS (comma-separated host:port, default "mongo:27017").
// Idempotent: on an initiated set it only adds the members that are missing, so the same
// script turns the single-node set into the 3-node profile's set. It retries while members
// are still starting, and exits non-zero if the set has no primary after the deadline
// (the compose services wait for this container to complete successfully).

const setName = process.env.GLIMPSE_RS_NAME || "rs0";
const members = (process.env.GLIMPSE_RS_MEMBERS || "mongo:27017")
  .split(",")
  .map((m) => m.trim())
  .filter((m) => m.length > 0);
const deadline = Date.now() + 120 * 1000;

function status() {
  try {
    return rs.status();
  } catch (e) {
    return null; // not initiated yet (NotYetInitialized) or not reachable yet
  }
}

while (true) {
  try {
    const current = status();
    if (current === null) {
      rs.initiate({
        _id: setName,
        members: members.map((host, i) => ({ _id: i, host: host, priority: i === 0 ? 2 : 1 })),
      });
      print(`replica set ${setName} initiated with ${members.join(", ")}`);
    } else {
      const known = rs.conf().members.map((m) => m.host);
      for (const host of members) {
        if (!known.includes(host)) {
          rs.add({ host: host, priority: 1 });
          print(`replica set ${setName}: added ${host}`);
        }
      }
    }
    if (db.hello().isWritablePrimary || (status() && status().members.some((m) => m.stateStr === "PRIMARY"))) {
      print(`replica set ${setName} has a primary`);
      quit(0);
    }
  } catch (e) {
    print(`waiting for the replica set: ${e.message}`);
  }
  if (Date.now() > deadline) {
    print(`replica set ${setName}: no primary after 120 s`);
    quit(1);
  }
  sleep(2000);
}
