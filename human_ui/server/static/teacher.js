// The teacher's dashboard: the class (join code, open or closed), each student's answers, speed
// and agreement, the run's progress, the reward model's validation accuracy, the agent's
// true-return curve and its newest video, and exports of the answers.
//
// The teacher's token comes from the address hfrl serve prints (/teacher#token=...: a
// fragment, never sent to the server nor written in its log) or is pasted in; it is kept in
// localStorage. The page reads GET /api/v1/dashboard, /class and /status every few seconds
// (and /lesson: live.js).

import { Api } from "/static/api.js";
import { barChart, lineChart } from "/static/charts.js";
import { showLesson } from "/static/live.js";

const api = new Api("hfrl.teacher");
const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;
let classInfo = null;
let videoRounds = -1;
let videoUrl = null;

function show(view) {
  document.body.dataset.view = view;
  $("login").hidden = view !== "login";
  $("dashboard").hidden = view !== "dashboard";
  $("forget").hidden = view !== "dashboard";
}

const fixed = (value, digits) => (value === null || value === undefined ? "–" : Number(value).toFixed(digits));
const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`);

function cell(text, className = "") {
  return Object.assign(document.createElement("td"), { textContent: text, className });
}

function exportLinks(name) {
  const td = document.createElement("td");
  for (const format of ["jsonl", "csv"]) {
    const link = Object.assign(document.createElement("a"), { href: "#", textContent: format });
    link.dataset.export = name;
    link.dataset.format = format;
    td.append(link, " ");
  }
  return td;
}

function showStudents(students) {
  const rows = students.map((s) => {
    const row = document.createElement("tr");
    row.dataset.student = s.name;
    row.append(
      cell(s.name),
      cell(String(s.answered), "num answered"),
      cell(fixed(s.answers_per_minute, 1), "num"),
      cell(fixed(s.seconds_per_label, 1), "num"),
      cell(percent(s.agreement_with_majority), "num"),
      exportLinks(s.name),
    );
    return row;
  });
  $("students").tBodies[0].replaceChildren(...rows);
}

function showRun(data) {
  const run = data.run;
  const rows = [];
  const add = (name, value) => {
    const row = document.createElement("tr");
    row.append(cell(name), cell(value, "num"));
    rows.push(row);
  };
  if (run) {
    add("phase", run.phase + (run.message ? ` (${run.message})` : ""));
    if (run.num_rounds) add("round", `${(run.round ?? 0) + 1} of ${run.num_rounds}`); // 0-based
    add("labels", `${run.labels_answered} of ${run.labels_budget}`);
    add("env steps", `${run.env_steps} of ${run.env_steps_budget}`);
    add("refits", String(run.refits));
  } else {
    add("run", "a store without a run");
  }
  const model = data.reward_model;
  add("reward model: validation accuracy", model ? `${percent(model.validation_accuracy)} (round ${model.round + 1})` : "not fit yet");
  $("run-table").tBodies[0].replaceChildren(...rows);
}

async function showVideo(data) {
  // A new round, a new video: fetched with the token header and played from memory.
  const rounds = data.true_return.length;
  if (!data.video_url || rounds === videoRounds) return;
  try {
    const blob = await api.blob(data.video_url);
    if (videoUrl) URL.revokeObjectURL(videoUrl);
    videoUrl = URL.createObjectURL(blob);
    $("run-video").src = videoUrl;
    $("run-video").hidden = false;
    $("no-video").hidden = true;
    videoRounds = rounds;
  } catch {
    // no video yet: tried again at the next refresh
  }
}

function showClass(info) {
  classInfo = info;
  $("join-code").textContent = info.join_code;
  const address = `${window.location.origin}/?code=${encodeURIComponent(info.join_code)}`;
  $("join-address").textContent = `students open ${address}`;
  $("class-state").textContent = `${info.open ? "open" : "closed"} · ${info.answers_per_query} answers on 1 query in ${info.shared_every} · leases of ${Math.round(info.lease_s)} s`;
  $("toggle-open").textContent = info.open ? "Close the class" : "Open the class";
}

async function refresh() {
  try {
    const [data, info, status] = await Promise.all([
      api.json("GET", "/dashboard"), api.json("GET", "/class"), api.json("GET", "/status"),
    ]);
    show("dashboard");
    showClass(info);
    showStudents(data.students);
    showRun(data);
    $("run-line").textContent = status.line || "";
    $("run-line").classList.toggle("ended", Boolean(data.run && data.run.ended));
    $("kappa").textContent = fixed(data.agreement.fleiss_kappa, 2);
    $("shared").textContent = String(data.agreement.shared_queries);
    barChart($("per-minute"), data.answers_per_minute.map((m) => m.answers));
    lineChart($("true-return"), data.true_return.map((r) => r.env_steps), data.true_return.map((r) => r.true_return), "no evaluation yet");
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.refreshed = String(Date.now());
    showVideo(data);
    showLesson(api); // a live lesson's rounds and comparison (hidden for other runs)
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      api.token = null;
      show("login");
      $("login-error").textContent = `${error.message} (the teacher's token is needed here)`;
      return;
    }
    $("updated").textContent = `not updated: ${error.message}`;
  }
}

async function exportAnswers(name, format) {
  const query = new URLSearchParams({ format });
  if (name) query.set("student", name);
  try {
    const blob = await api.blob(`/export?${query}`);
    const link = Object.assign(document.createElement("a"), {
      href: URL.createObjectURL(blob),
      download: `answers-${name || "all"}.${format}`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) {
    $("class-error").textContent = `export failed: ${error.message}`;
  }
}

async function changeClass(change) {
  try {
    showClass(await api.json("PUT", "/class", change));
    $("class-error").textContent = "";
  } catch (error) {
    $("class-error").textContent = error.message;
  }
}

function wire() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  if (fragment.get("token")) {
    api.token = fragment.get("token");
    window.history.replaceState(null, "", window.location.pathname); // out of the address bar
  }
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    api.token = $("login-token").value.trim();
    $("login-error").textContent = "";
    refresh();
  });
  $("forget").addEventListener("click", () => {
    api.token = null;
    show("login");
  });
  $("toggle-open").addEventListener("click", () => changeClass({ open: !(classInfo && classInfo.open) }));
  $("new-code").addEventListener("click", () => changeClass({ new_join_code: true }));
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-export]");
    if (!link) return;
    event.preventDefault();
    exportAnswers(link.dataset.export, link.dataset.format);
  });
}

wire();
if (api.token) refresh();
else show("login");
window.setInterval(() => {
  if (api.token) refresh();
}, REFRESH_MS);
