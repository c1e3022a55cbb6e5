// A live lesson's part of the dashboard (hfrl lesson live): the agent's video at each
// checkpoint, side by side, so the class sees it improve; and at the end the comparison of
// agents (the class's, the oracle's, single students', a constant-reward control) with the
// class's agreement. Read from GET /api/v1/lesson (the teacher's); hidden for other runs.

const $ = (id) => document.getElementById(id);
const shown = new Map(); // round index -> object URL of its video, fetched once
let figureShown = false;

function caption(round) {
  const value = round.true_return === null ? "–" : round.true_return.toFixed(1);
  const steps = round.env_steps === null ? "–" : Math.round(round.env_steps).toLocaleString();
  return `checkpoint ${(round.round ?? 0) + 1} · ${steps} steps · true return ${value}`;
}

async function addRound(api, round) {
  const figure = document.createElement("figure");
  figure.className = "round";
  figure.dataset.index = String(round.index);
  const video = Object.assign(document.createElement("video"), {
    muted: true, loop: true, autoplay: true, playsInline: true,
  });
  const text = Object.assign(document.createElement("figcaption"), { textContent: caption(round) });
  figure.append(video, text);
  $("rounds").append(figure);
  shown.set(round.index, null);
  try {
    const url = URL.createObjectURL(await api.blob(round.video_url));
    video.src = url;
    shown.set(round.index, url);
  } catch {
    shown.delete(round.index); // tried again at the next refresh
    figure.remove();
  }
}

function agentRows(agents) {
  return agents.map((agent) => {
    const row = document.createElement("tr");
    const value = agent.true_return_mean === null
      ? agent.note
      : `${agent.true_return_mean.toFixed(1)} ± ${agent.true_return_std.toFixed(1)}`;
    for (const [text, className] of [[agent.name, ""], [String(agent.labels), "num"], [value, "num"]]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text, className }));
    }
    return row;
  });
}

async function showComparison(api, data) {
  const comparison = data.comparison;
  $("comparison-panel").hidden = !comparison;
  if (!comparison) return;
  const done = comparison.finished ? "" : " (agents still training…)";
  $("comparison-state").textContent = `agents of ${comparison.num_env_steps.toLocaleString()} env steps each${done}`;
  $("agents").tBodies[0].replaceChildren(...agentRows(comparison.agents));
  if (data.figure_url && comparison.finished && !figureShown) {
    try {
      $("comparison-figure").src = URL.createObjectURL(await api.blob(data.figure_url));
      $("comparison-figure").hidden = false;
      figureShown = true;
    } catch {
      // drawn soon: tried again at the next refresh
    }
  }
}

export async function showLesson(api) {
  let data;
  try {
    data = await api.json("GET", "/lesson");
  } catch {
    return; // an older server, or not reachable now: the rest of the dashboard says so
  }
  $("lesson").hidden = !data.live;
  document.body.dataset.lessonRounds = String(data.rounds.length);
  if (!data.live) return;
  for (const round of data.rounds) {
    if (!shown.has(round.index)) await addRound(api, round);
  }
  $("no-rounds").hidden = data.rounds.length > 0;
  await showComparison(api, data);
}
