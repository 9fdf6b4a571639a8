// The reference reach agent in Node.js (no packages): speaks Portia's agent protocol
// (docs/protocol.md) on its standard input and output.
//
//   portia bench --suite smoke-v0 --agent "exec:node reach_agent.js"
//
// The controller is pattern search through imagine, as in
// portia_envs/agent_examples/reach_controller.py, with the same constants and the same
// arithmetic (candidates in doubles, imagined and sent as float32), so that the Python,
// C and Node.js reference agents play the same episodes. It reads arrays sent as raw
// buffers (any dtype of the protocol) or as JSON lists, and sends its own as raw float32.
//
// On a hello of another protocol version, or a message it cannot read, it answers error
// and exits with code 1; on a message of an unknown type it answers error and goes on; on
// close, or at the end of its input, it exits with code 0. It logs to standard error.
"use strict";

const PROTOCOL_VERSION = 1;
const AGENT = { name: "reach-search-js", version: "1" };
const MAX_HEADER_BYTES = 1 << 20;
const MAX_FRAME_BYTES = 1 << 28;
const MAX_ACTION = 64;

// The controller's constants: reach_controller.py's.
const HORIZON = 3;
const FIRST_STEP = 0.1;
const MIN_STEP = 0.01;
const MAX_STEP = 0.25;
const SHRINK = 0.5;
const GROW = 2.0;
const GRIPPER = -1.0;

// ----------------------------------------------------------------------------- Frames

// Whole frames read so far ({header, buffers}, or {broken: reason}), and who waits for one.
const frames = [];
let pending = Buffer.alloc(0);
let header = null; // the header of the frame being read, once it is whole
let broken = false;
let ended = false;
let wake = null;

function takeFrames() {
  while (!broken && pending.length >= 4) {
    const length = pending.readUInt32LE(0);
    if (header === null) {
      if (length > MAX_HEADER_BYTES) {
        return fail(`a header of ${length} bytes is over the ${MAX_HEADER_BYTES} accepted`);
      }
      if (pending.length < 4 + length) return;
      try {
        header = JSON.parse(pending.toString("utf8", 4, 4 + length));
      } catch (error) {
        return fail(`a message header is not valid JSON: ${error.message}`);
      }
      const sizes = header && header.buffers;
      if (
        typeof header !== "object" ||
        Array.isArray(header) ||
        typeof header.type !== "string" ||
        !Array.isArray(sizes) ||
        !sizes.every((n) => Number.isInteger(n) && n >= 0) ||
        sizes.reduce((a, b) => a + b, 0) > MAX_FRAME_BYTES
      ) {
        return fail("a message header must be a JSON object with a 'type' and 'buffers'");
      }
    }
    let at = 4 + length;
    const total = header.buffers.reduce((a, b) => a + b, 0);
    if (pending.length < at + total) return;
    const buffers = header.buffers.map((size) => {
      const buffer = pending.subarray(at, at + size);
      at += size;
      return buffer;
    });
    frames.push({ header, buffers });
    header = null;
    pending = pending.subarray(at);
  }
}

function fail(reason) {
  broken = true;
  frames.push({ broken: reason });
}

function notify() {
  if (wake !== null) {
    const resolve = wake;
    wake = null;
    resolve();
  }
}

process.stdin.on("data", (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  takeFrames();
  notify();
});
process.stdin.on("end", () => {
  ended = true;
  notify();
});

// The next frame, or null at the end of the input.
async function receive() {
  while (frames.length === 0) {
    if (ended) return null;
    await new Promise((resolve) => {
      wake = resolve;
    });
  }
  return frames.shift();
}

function send(message, data = null) {
  const body = Buffer.from(JSON.stringify({ ...message, buffers: data ? [data.length] : [] }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  process.stdout.write(data ? Buffer.concat([length, body, data]) : Buffer.concat([length, body]));
}

function sendFloats(type, field, shape, values) {
  const data = Buffer.alloc(4 * values.length);
  values.forEach((value, i) => data.writeFloatLE(value, 4 * i));
  send({ type, [field]: { $array: { buffer: 0, dtype: "<f4", shape } } }, data);
}

const READERS = {
  "<f8": [8, (b, at) => b.readDoubleLE(at)],
  "<f4": [4, (b, at) => b.readFloatLE(at)],
  "<i8": [8, (b, at) => Number(b.readBigInt64LE(at))],
  "<i4": [4, (b, at) => b.readInt32LE(at)],
  "|i1": [1, (b, at) => b.readInt8(at)],
  "|u1": [1, (b, at) => b[at]],
  "|b1": [1, (b, at) => b[at]],
};
const WORDS = { inf: Infinity, "-inf": -Infinity, nan: NaN };

// The values of an array (a $array reference, or JSON lists), flattened; null if neither.
function readArray(value, buffers) {
  if (Array.isArray(value)) {
    const out = [];
    const walk = (item) => {
      if (Array.isArray(item)) return item.every(walk);
      const number = typeof item === "number" ? item : WORDS[item];
      if (number === undefined) return false;
      out.push(number);
      return true;
    };
    return walk(value) ? out : null;
  }
  const reference = value && value.$array;
  const reader = reference && READERS[reference.dtype];
  const buffer = reference && buffers[reference.buffer];
  if (!reader || !buffer || !Array.isArray(reference.shape)) return null;
  const count = reference.shape.reduce((a, b) => a * b, 1);
  const [width, read] = reader;
  if (buffer.length !== count * width) return null;
  return Array.from({ length: count }, (_, i) => read(buffer, i * width));
}

// ------------------------------------------------------------------------- Controller

let actionSize = 0;
let action = new Float64Array(0);
let step = FIRST_STEP;

function resetController() {
  action = new Float64Array(actionSize);
  action[actionSize - 1] = GRIPPER;
  step = FIRST_STEP;
}

// One decision: imagine the candidates, choose, send the action. False if the input ended.
async function decide() {
  const joints = actionSize - 1;
  const candidates = [Float64Array.from(action)];
  for (let j = 0; j < joints; j++) {
    const up = Float64Array.from(action);
    const down = Float64Array.from(action);
    up[j] = Math.min(1.0, action[j] + step);
    down[j] = Math.max(-1.0, action[j] - step);
    candidates.push(up, down);
  }
  const plans = [];
  for (const candidate of candidates) {
    for (let t = 0; t < HORIZON; t++) plans.push(...candidate);
  }
  sendFloats("imagine", "plans", [candidates.length, HORIZON, actionSize], plans);
  const reply = await receive();
  if (reply === null) return false;
  if (reply.broken) throw new Error(reply.broken);
  if (reply.header.type === "future") {
    const future = reply.header.future || {};
    const rewards = readArray(future.reward, reply.buffers);
    if (rewards && rewards.length >= HORIZON && rewards.length % HORIZON === 0) {
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < rewards.length / HORIZON; c++) {
        let score = rewards[c * HORIZON + HORIZON - 1];
        if (Number.isNaN(score)) score = -Infinity;
        if (c === 0 || score > bestScore) {
          best = c;
          bestScore = score;
        }
      }
      if (best === 0) {
        step = Math.max(step * SHRINK, MIN_STEP);
      } else {
        action = Float64Array.from(candidates[best]);
        step = Math.min(step * GROW, MAX_STEP);
      }
    } else {
      console.error("reach agent: a future without a usable reward; holding");
    }
  } else if (reply.header.type === "error") {
    console.error(`reach agent: imagine refused (${reply.header.message}); holding`);
  } else {
    throw new Error(`expected future after imagine, got ${reply.header.type}`);
  }
  sendFloats("action", "action", [actionSize], Array.from(action));
  return true;
}

// ------------------------------------------------------------------------------- Main

async function main() {
  let hasTask = false;
  for (;;) {
    const frame = await receive();
    if (frame === null) return 0;
    if (frame.broken) {
      send({ type: "error", message: frame.broken });
      return 1;
    }
    const message = frame.header;
    if (message.type === "hello") {
      if (message.protocol !== PROTOCOL_VERSION) {
        send({
          type: "error",
          message: `this agent speaks protocol ${PROTOCOL_VERSION}; the harness asked for ${message.protocol}`,
        });
        return 1;
      }
      send({ type: "hello", protocol: PROTOCOL_VERSION, agent: AGENT, native_spaces: true });
    } else if (message.type === "task") {
      const space = message.action_space || {};
      const shape = space.shape || [];
      hasTask =
        space.type === "box" && shape.length === 1 && shape[0] >= 1 && shape[0] <= MAX_ACTION;
      if (hasTask) {
        actionSize = shape[0];
        resetController();
        send({ type: "ready" });
      } else {
        send({
          type: "error",
          message: "the reach agent acts in a Box action space of one dimension, of 1 to 64 values",
        });
      }
    } else if (message.type === "reset" || message.type === "act") {
      if (!hasTask) {
        send({ type: "error", message: `${message.type} before any task message` });
      } else if (message.type === "reset") {
        resetController();
        send({ type: "ready" });
      } else {
        try {
          if (!(await decide())) return 0;
        } catch (error) {
          send({ type: "error", message: error.message });
          return 1;
        }
      }
    } else if (message.type === "close") {
      return 0;
    } else {
      send({
        type: "error",
        message: `unknown message type ${JSON.stringify(message.type)}; accepted: hello, task, reset, act, close`,
      });
    }
  }
}

main().then((code) => process.exit(code));
