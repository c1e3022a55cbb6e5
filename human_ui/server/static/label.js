// The comparison page: join, then two clips side by side answered by key or click.
//
// The page leases two pairs (the shown one and the next, docs/API.md POST /leases), fetches
// both pairs' videos ahead as blobs, so the next pair appears at once, and renews its leases
// by leasing again. Each answer carries the seconds since its clips could play and a request id,
// and is retried with that id when its reply is lost. The keys are the desktop window's
// (human_ui/commands.py). The page's state is mirrored on <body> data attributes
// (data-view, data-query-id, data-ready, data-answered) for people and tests alike; the
// Performance API keeps how long each answer took to be stored ("hfrl:answer-stored") and
// the next pair to play ("hfrl:next-pair"), both from the answer's key or click.

import { Api, ApiError, requestId } from "/static/api.js";
import { SyncPlayer } from "/static/sync.js";

const api = new Api("hfrl.student");
const $ = (id) => document.getElementById(id);
const POLL_MS = 3000; // looking for new pairs when none is leased
const STATUS_MS = 5000;
const RETRIES = 4;
const WAITING = "no pair to answer: waiting for queries";

const CHOICE_TEXT = { left: "left is better", right: "right is better", equal: "equally good", skip: "skipped" };

const state = {
  me: null,
  task: null,
  leaseS: 300,
  pairs: new Map(), // query_id -> {pair, videos: Promise<[url, url]>}
  order: [], // query ids in the server's lease order
  current: null, // query id shown
  shownAt: null, // performance.now() when the shown pair could play
  busy: false, // an answer or undo in flight
  done: new Set(), // queries answered here (a lease reply sent before an answer may name them)
  answered: 0,
  pollTimer: null,
};

const player = new SyncPlayer([$("video-left"), $("video-right")], showClock);

function show(view) {
  document.body.dataset.view = view;
  $("join").hidden = view !== "join";
  $("compare").hidden = view !== "compare";
  $("leave").hidden = view !== "compare";
}

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", isError);
}

function showClock(p) {
  const frames = Math.max(Math.round(p.duration * p.fps), 1);
  const frame = Math.min(Math.floor(p.clock * p.fps), frames - 1);
  $("frame").textContent = p.ready ? `frame ${frame + 1} / ${frames}` : "";
  $("speed").textContent = `${p.speed}×`;
  $("pause").textContent = p.playing ? "Pause (p)" : "Play (p)";
  if (p.ready && document.activeElement !== $("scrub")) {
    $("scrub").value = String(Math.round((p.clock / Math.max(p.duration, 1e-6)) * 1000));
  }
}

function showProgress(status) {
  const mine = status ? status.mine.answered : state.answered;
  state.answered = mine;
  document.body.dataset.answered = String(mine);
  const pending = status ? ` · pending ${status.queries.pending}` : "";
  $("progress").textContent = `answered by me ${mine}${pending}`;
  if (status) {
    $("run-line").textContent = status.line || "";
    $("run-line").classList.toggle("ended", Boolean(status.run && status.run.ended));
  }
}

// --- joining -----------------------------------------------------------------------------

async function join(event) {
  event.preventDefault();
  $("join-error").textContent = "";
  try {
    const reply = await api.json("POST", "/join", { code: $("join-code").value.trim(), name: $("join-name").value.trim() });
    api.token = reply.token;
    await start();
  } catch (error) {
    $("join-error").textContent = error.message;
  }
}

function leave() {
  // The student's pairs go back to the class at once (if the server answers; else their leases
  // lapse by themselves), then the token is forgotten here.
  api.json("DELETE", "/leases").catch(() => {});
  window.clearTimeout(state.pollTimer);
  api.token = null;
  Object.assign(state, { me: null, current: null, order: [], shownAt: null });
  state.done.clear();
  dropPairs([]);
  player.clear();
  $("who").textContent = "";
  $("progress").textContent = "";
  show("join");
}

// --- the task card -------------------------------------------------------------------------

function cardKey() {
  const task = state.task || {};
  return `hfrl.card.${state.me.annotator}.${task.env_id}.${task.goal}`;
}

function showCard(open) {
  $("card").hidden = !open;
  if (!open && state.task && state.task.env_id) window.localStorage.setItem(cardKey(), "seen");
}

async function loadTask() {
  try {
    state.task = await api.json("GET", "/task");
  } catch {
    return; // the card waits for the next pair
  }
  const lines = state.task.lines || [];
  $("card-title").textContent = state.task.title || "The task";
  $("card-lines").replaceChildren(...lines.map((line) => Object.assign(document.createElement("li"), { textContent: line })));
  $("task-line").textContent = lines[0] || "";
  if (state.task.env_id && !window.localStorage.getItem(cardKey())) showCard(true);
}

// --- pairs: leasing, prefetching, showing --------------------------------------------------------

async function videoUrls(pair) {
  const blobs = await Promise.all([api.blob(pair.left.video_url), api.blob(pair.right.video_url)]);
  return blobs.map((blob) => URL.createObjectURL(blob));
}

function dropPairs(keep) {
  for (const [id, entry] of state.pairs) {
    if (keep.includes(id)) continue;
    entry.videos.then((urls) => urls.forEach((u) => URL.revokeObjectURL(u))).catch(() => {});
    state.pairs.delete(id);
  }
}

async function lease() {
  if (!api.token) return; // left the class: nothing to lease or renew
  let reply;
  try {
    reply = await api.json("POST", "/leases", { count: 2 });
  } catch (error) {
    if (error.status === 401) return expired(error);
    say(error.message, true);
    window.clearTimeout(state.pollTimer);
    state.pollTimer = window.setTimeout(lease, POLL_MS); // soon: the leases need renewing
    return undefined;
  }
  state.leaseS = reply.lease_s || state.leaseS;
  const fresh = reply.pairs.filter((p) => !state.done.has(p.query_id));
  state.order = fresh.map((p) => p.query_id);
  dropPairs(state.order);
  for (const pair of fresh) {
    if (!state.pairs.has(pair.query_id)) {
      const videos = videoUrls(pair);
      videos.catch(() => {});
      state.pairs.set(pair.query_id, { pair, videos });
    }
  }
  if (state.current === null || !state.order.includes(state.current)) await showNext();
  schedulePoll();
}

function schedulePoll() {
  window.clearTimeout(state.pollTimer);
  // Renew the leases well before they lapse; look for new pairs often when there are none.
  const wait = state.order.length ? Math.min((state.leaseS * 1000) / 3, 60000) : POLL_MS;
  state.pollTimer = window.setTimeout(lease, wait);
}

async function showNext() {
  const id = state.order.find((q) => state.pairs.has(q) && q !== state.current) ?? null;
  state.current = id;
  state.shownAt = null;
  document.body.dataset.ready = "false";
  if (id === null) {
    delete document.body.dataset.queryId;
    player.clear();
    say(WAITING);
    return;
  }
  document.body.dataset.queryId = String(id);
  const entry = state.pairs.get(id);
  try {
    const urls = await entry.videos;
    if (state.current !== id) return;
    for (const [video, clip] of [[$("video-left"), entry.pair.left], [$("video-right"), entry.pair.right]]) {
      if (clip.width && clip.height) video.style.aspectRatio = `${clip.width} / ${clip.height}`;
    }
    const loaded = await player.load(urls, entry.pair.left.fps);
    if (!loaded || state.current !== id) return;
    state.shownAt = performance.now();
    document.body.dataset.ready = "true";
    if ($("message").textContent === WAITING) say("");
    if (performance.getEntriesByName("hfrl:answer", "mark").length) {
      performance.measure("hfrl:next-pair", "hfrl:answer"); // from the newest answer's key
      performance.clearMarks("hfrl:answer");
    }
  } catch (error) {
    if (state.current !== id) return;
    if (error.status === 401) return expired(error);
    say(`the clips of query ${id} could not be loaded: ${error.message}`, true);
    state.pairs.delete(id);
    state.current = null;
    window.setTimeout(lease, POLL_MS);
  }
}

function expired(error) {
  window.clearTimeout(state.pollTimer);
  api.token = null;
  show("join");
  $("join-error").textContent = `${error.message} Join again.`;
}

// --- answers and undo -----------------------------------------------------------------------

async function post(path, body, idempotent) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api.json("POST", path, body);
    } catch (error) {
      // 503: the store was busy and nothing was done. No reply at all (0): only a request
      // the server stores once (an answer with its request id) may be sent again.
      const lost = error.status === 0 && idempotent;
      if (error.status !== 503 && !lost) throw error;
      if (attempt >= RETRIES) throw error;
      await new Promise((resolve) => window.setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

async function answer(choice, confidence = null) {
  if (state.busy) return;
  if (state.current === null) return say(WAITING);
  if (state.shownAt === null) return say("the clips are not ready yet: answer when they play");
  const id = state.current;
  performance.mark("hfrl:answer");
  const seconds = (performance.now() - state.shownAt) / 1000;
  const body = { query_id: id, choice, confidence, seconds: Math.round(seconds * 1000) / 1000, request_id: requestId() };
  state.busy = true;
  try {
    const reply = await post("/answers", body, true);
    performance.measure("hfrl:answer-stored", "hfrl:answer");
    state.answered = reply.answered;
    state.done.add(id);
    showProgress(null);
    const said = confidence ? `${choice} is ${confidence} better` : CHOICE_TEXT[choice];
    say(`query ${id}: ${said} (${seconds.toFixed(1)} s)`);
  } catch (error) {
    if (error.status === 401) return expired(error);
    say(`not stored: ${error.message}`, true);
    if (error.status !== 409) return; // the pair stays: answer it again
    state.done.add(id); // not this student's to answer any more
  } finally {
    state.busy = false;
  }
  state.order = state.order.filter((q) => q !== id);
  dropPairs(state.order);
  await showNext();
  lease();
}

async function undo() {
  if (state.busy) return;
  state.busy = true;
  try {
    const reply = await post("/undo", {}, false); // sent twice, it would undo two answers
    state.answered = reply.answered;
    showProgress(null);
    if (!reply.undone) {
      say("nothing to undo");
      return;
    }
    state.done.delete(reply.undone.query_id);
    say(`undone: query ${reply.undone.query_id} (${CHOICE_TEXT[reply.undone.choice]}): answer it again`);
    state.current = null; // the undone query comes first in the next lease
  } catch (error) {
    if (error.status === 401) return expired(error);
    say(`not undone: ${error.message}`, true);
    return;
  } finally {
    state.busy = false;
  }
  await lease();
}

// --- keys and buttons ------------------------------------------------------------------------

function run(command, confidence = null) {
  const result = perform(command, confidence);
  showClock(player); // the speed and pause buttons say at once what a key changed
  return result;
}

function perform(command, confidence) {
  switch (command) {
    case "left": case "right": case "equal": case "skip": return answer(command, confidence);
    case "undo": return undo();
    case "pause": return player.togglePause();
    case "step_back": return player.step(-1);
    case "step_forward": return player.step(1);
    case "slower": return player.slower();
    case "faster": return player.faster();
    case "restart": return player.restart();
    case "help": return showCard($("card").hidden);
    default: return undefined;
  }
}

const KEYS = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "equal", " ": "skip", Backspace: "undo", Home: "restart" };
const CHARS = { "+": "faster", "=": "faster", "]": "faster", "-": "slower", _: "slower", "[": "slower", h: "help", "?": "help", p: "pause", ".": "step_forward", ",": "step_back" };

function onKey(event) {
  const typing = event.target.tagName === "INPUT" && event.target.type !== "range";
  if (document.body.dataset.view !== "compare" || typing) return;
  if (!$("card").hidden) {
    if (event.key === "Escape" || event.key.toLowerCase() === "h" || event.key === "Enter") {
      event.preventDefault();
      showCard(false);
    }
    return;
  }
  let command = KEYS[event.key];
  let confidence = null;
  if (command === "left" || command === "right") {
    if (event.shiftKey) confidence = "much";
    else if (event.ctrlKey || event.altKey) confidence = "slightly";
  } else if (command === undefined && !event.ctrlKey && !event.metaKey) {
    command = CHARS[event.key.length === 1 ? event.key.toLowerCase() : ""];
  }
  if (command === undefined) return;
  event.preventDefault();
  if (event.repeat && command !== "step_back" && command !== "step_forward") return;
  run(command, confidence);
}

// --- start -----------------------------------------------------------------------------------

async function pollStatus() {
  if (document.body.dataset.view === "compare") {
    try {
      showProgress(await api.json("GET", "/status"));
    } catch (error) {
      if (error.status === 401) expired(error);
    }
  }
  window.setTimeout(pollStatus, STATUS_MS);
}

async function start() {
  if (!api.token) return show("join");
  try {
    state.me = await api.json("GET", "/me");
  } catch (error) {
    if (error.status === 401) return expired(error);
    show("join");
    $("join-error").textContent = error.message;
    return;
  }
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  state.answered = state.me.answered;
  showProgress(null);
  show("compare");
  await loadTask();
  try {
    showProgress(await api.json("GET", "/status"));
  } catch {
    // the status line follows with the next poll
  }
  await lease();
}

function wire() {
  $("join-form").addEventListener("submit", join);
  $("leave").addEventListener("click", leave);
  $("card-close").addEventListener("click", () => showCard(false));
  $("clip-left").addEventListener("click", () => answer("left"));
  $("clip-right").addEventListener("click", () => answer("right"));
  for (const button of document.querySelectorAll("button[data-command]")) {
    button.addEventListener("click", (event) => {
      event.currentTarget.blur(); // keys go to the page, not to the last button clicked
      run(event.currentTarget.dataset.command);
    });
  }
  $("scrub").addEventListener("input", (event) => {
    player.scrubTo((Number(event.target.value) / 1000) * player.duration);
  });
  $("scrub").addEventListener("change", (event) => event.target.blur()); // keys to the page
  document.addEventListener("keydown", onKey);
  const code = new URLSearchParams(window.location.search).get("code");
  if (code) $("join-code").value = code;
}

wire();
start();
pollStatus();
