// The console's pages come alive here: live updates over server-sent events, buttons, shortcuts, the fleet table.
"use strict";

const LANG = document.body.dataset.lang || "vi";
const CSRF = document.querySelector('meta[name="csrf"]').content;
const VI = LANG === "vi";
const PRIORITY = {elderly: ["Người cao tuổi", "Elderly"], disability: ["Người khuyết tật", "Disability"],
                  pregnant: ["Phụ nữ mang thai", "Pregnant"], meritorious: ["Người có công", "Meritorious"]};
const SAY = {
  lost_console: ["Mất kết nối với bảng điều khiển — đang thử lại…", "Lost the console — reconnecting…"],
  lost_hub: ["Máy chủ một cửa không trả lời — chưa thể gọi số.", "The hub is not answering — no calls possible."],
  nobody: ["Chưa gọi ai", "Nobody called"], waited: ["đã chờ", "waited"], min: ["phút", "min"],
  closed: ["Quầy đang tạm nghỉ", "The counter is paused"], not_sent: ["Chưa gửi được.", "Not sent."],
  signed_out: ["Phiên đăng nhập đã hết — bấm vào đây để đăng nhập lại.",
               "You are signed out — click here to sign in again."],
};
const say = (key) => SAY[key][VI ? 0 : 1];

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

// A table that stacks on a phone (class "stack"): each cell labelled with its column's heading, read from the page.
function labelCells(table) {
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll("tbody tr")) {
    [...row.cells].forEach((cell, i) => { if (heads[i]) cell.dataset.label = heads[i]; });
  }
}

async function post(url, body, json = true) {
  const init = {method: "POST", headers: {"x-csrftoken": CSRF}, credentials: "same-origin"};
  if (json) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
  else { init.body = new URLSearchParams(body); }
  const response = await fetch(url, init);
  let answer = {};
  try { answer = await response.json(); } catch (e) { answer = {message: response.statusText}; }
  return {status: response.status, ...answer};
}

// -- the link: the console (this page's stream) and the hub (as the console sees it) -------------------------
const link = {console: true, hub: true, bus: true, signedIn: true};
let onLink = () => {};

function showLink() {
  const banner = document.getElementById("banner");
  const dot = document.getElementById("link-dot");
  const problem = !link.signedIn ? say("signed_out") : !link.console ? say("lost_console")
    : (!link.hub || !link.bus) ? say("lost_hub") : "";
  banner.hidden = !problem;
  if (link.signedIn) {
    banner.textContent = problem;
  } else {  // the way back in, to this same page
    const again = text("a", problem);
    again.href = "/login?next=" + encodeURIComponent(location.pathname);
    banner.replaceChildren(again);
  }
  if (dot) dot.className = "dot " + (problem ? "bad" : "ok");
  onLink();
}

function stream(kinds, handle) {
  let clockOffset = 0;
  let broken = false;
  let pause = 500;  // before asking why a stream was refused; doubled each time, up to 30 s
  function open() {
    const source = new EventSource("/events?kinds=" + kinds.join(","));
    source.onmessage = (e) => {
      const event = JSON.parse(e.data);
      if (event.kind === "hello") {
        clockOffset = event.now * 1000 - Date.now();
        link.console = true; link.hub = event.hub; link.bus = event.bus; pause = 500;
        showLink();
        if (broken) { broken = false; handle({kind: "resync"}); }
      } else if (event.kind === "link") {
        link.hub = event.hub; link.bus = event.bus; showLink();
      } else if (event.kind === "reload") {
        handle({kind: "resync"});
      } else {
        handle(event);
      }
    };
    source.onerror = () => {
      broken = true; link.console = false; showLink();
      // a dropped stream the browser opens again by itself; a refused one (signed out, a proxy's error page) it
      // gives up on for good, and the page would say "reconnecting" forever: ask why, then try again
      if (source.readyState === EventSource.CLOSED) setTimeout(retry, pause);
    };
  }
  async function retry() {
    pause = Math.min(pause * 2, 30000);
    try {
      const answer = await fetch("/session", {credentials: "same-origin"});
      if (answer.status === 401) { link.signedIn = false; showLink(); return; }
    } catch (e) { /* the console is away: the stream's own attempt tells */ }
    open();
  }
  open();
  return () => Date.now() + clockOffset;
}

// -- the counter screen ---------------------------------------------------------------------------------------
function counterScreen(data) {
  let state = data.state || {};
  let busy = false;
  const number = data.counter;
  const buttons = [...document.querySelectorAll("#actions button")];
  const result = document.getElementById("result");
  const services = Object.fromEntries(data.services.map((s) => [s.code, VI ? s.name_vi : s.name_en]));
  let roomDue = null;
  const now = stream(["counter", "services", "ticket", "device"], (event) => {
    if (event.kind === "counter" && event.counter === number) { state = event.state; render(); }
    if (event.kind === "resync") refresh();
    if (event.kind === "device" && !roomDue) roomDue = setTimeout(() => refresh(false), 1000);  // a burst: one read
  });

  // the page read again: after a break in the stream all of it, for a device's news the room's box alone (a
  // counter state read while a press's answer is on its way would put the ticket before it back on the screen)
  async function refresh(all = true) {
    if (!all) roomDue = null;
    const response = await fetch(`/counter/${number}?format=json`, {credentials: "same-origin"});
    if (!response.ok) return;
    const fresh = await response.json();
    if (all) { state = fresh.state || {}; render(); }
    showRoom(fresh.room || []);
  }

  // the devices in the room that need a person: a kiosk out of paper, a silent board, a unit unplugged
  function showRoom(devices) {
    document.getElementById("room").hidden = !devices.length;
    document.getElementById("room-list").replaceChildren(...devices.map((d) => {
      const item = text("li", ": " + d.problems.join("; "));
      item.prepend(text("b", `${d.role} ${d.device}`));
      return item;
    }));
  }

  function minutes(since) { return Math.max(0, Math.round((now() - Date.parse(since)) / 60000)); }

  function allowed(action) {
    const t = state.ticket;
    const called = t && t.status === "called";
    const active = t && (t.status === "called" || t.status === "serving");
    return {call_next: true, recall: called, start: called, skip: called, no_show: called, transfer: active,
            done: active, close: state.status === "open" && !t, open: state.status === "closed"}[action];
  }

  function render() {
    const t = state.ticket;
    document.getElementById("label").textContent = t ? t.label : "—";
    const about = document.getElementById("about");
    about.replaceChildren();
    if (t) {
      about.append(text("span", services[t.service] || t.service_vi));
      if (t.procedure) {
        const p = data.procedures[t.procedure];
        about.append(text("span", " · " + (p ? (VI ? p.vi : p.en) : t.procedure)));
      }
      if (t.priority) about.append(text("span", " · " + PRIORITY[t.priority][VI ? 0 : 1], "prio"));
      if (t.called_at) {
        const waited = Math.round((Date.parse(t.called_at) - Date.parse(t.issued_at)) / 60000);
        about.append(text("span", ` · ${say("waited")} ${waited} ${say("min")}`));
      }
    } else {
      about.textContent = state.status === "closed" ? say("closed") : say("nobody");
    }
    const why = state.explanation;
    document.getElementById("why").textContent = t && why ? (VI ? why.vi : why.en) : "";
    for (const [key, value] of Object.entries(state.counts || {})) {
      const cell = document.querySelector(`[data-count="${key}"]`);
      if (cell) cell.textContent = value;
    }
    const list = document.getElementById("waiting");
    list.replaceChildren(...(state.waiting || []).map((w) => {
      const item = text("li", `${w.label} · ${services[w.service] || w.service} · ${minutes(w.issued_at)} ${say("min")}`);
      if (w.priority) item.append(text("span", " · " + PRIORITY[w.priority][VI ? 0 : 1], "prio"));
      return item;
    }));
    document.getElementById("waiting-count").textContent = `(${(state.waiting || []).length})`;
    enable();
  }

  function enable() {
    const up = link.console && link.hub && link.bus;
    for (const b of buttons) b.disabled = busy || !up || !allowed(b.dataset.action);
  }

  async function act(action, extra = {}) {
    if (busy || !allowed(action) || !(link.console && link.hub && link.bus)) return;
    busy = true; enable();
    const started = Date.now();
    result.className = "result"; result.textContent = "…";
    try {
      const answer = await post(`/counter/${number}/act`, {action, expect: state.ticket ? state.ticket.id : 0, ...extra});
      result.textContent = answer.message || "";
      result.className = "result " + (answer.ok ? "good" : "bad");
    } catch (e) {
      result.textContent = say("not_sent"); result.className = "result bad";
    }
    // a second press within a moment of the first is never a second command
    setTimeout(() => { busy = false; enable(); }, Math.max(0, 400 - (Date.now() - started)));
  }

  const dialog = document.getElementById("transfer");
  function transfer() {
    if (!allowed("transfer") || busy) return;
    dialog.showModal();
  }
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "send") {
      act("transfer", {service: document.getElementById("transfer-service").value,
                       reason: document.getElementById("transfer-reason").value});
    }
  });
  for (const b of buttons) {
    b.addEventListener("click", () => (b.dataset.action === "transfer" ? transfer() : act(b.dataset.action)));
  }
  const keys = {n: "call_next", r: "recall", b: "start", s: "skip", x: "no_show", t: "transfer", d: "done"};
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || dialog.open || ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    if (e.repeat) return; // a key held down is one press: each repeat would have called the next citizen
    const key = e.key.toLowerCase();
    if (key === "p") { e.preventDefault(); act(state.status === "closed" ? "open" : "close"); return; }
    const action = keys[key];
    if (!action) return;
    e.preventDefault();
    action === "transfer" ? transfer() : act(action);
  });
  onLink = enable;
  render();
}

// -- the fleet page -------------------------------------------------------------------------------------------
function fleetPage(data) {
  const table = document.querySelector("#fleet tbody");
  const result = document.getElementById("result");
  let pending = false;
  async function reload() {
    if (pending) return;
    pending = true;
    setTimeout(async () => {  // many devices change at once after an outage: one reload for a burst
      pending = false;
      const response = await fetch("/fleet?format=json", {credentials: "same-origin"});
      if (!response.ok) return;
      const data = await response.json();
      const commands = table.querySelector("td.commands") !== null;
      table.replaceChildren(...data.devices.map((d) => {
        const row = document.createElement("tr");
        row.dataset.device = d.device;
        if (d.problems.length) row.className = "problem";
        const version = d.update && d.update !== "-" && d.update !== "none" ? `${d.version} (${d.update})` : d.version;
        for (const cell of [d.device, d.role_text, d.status_text, version, d.since, d.problems.join("; ") || data.ok]) {
          row.append(text("td", cell));
        }
        if (commands) {
          const cell = text("td", "", "commands");
          for (const [c, label] of [...data.commands, ...d.own]) {
            const b = text("button", label);
            b.dataset.device = d.device; b.dataset.command = c;
            cell.append(b);
          }
          const select = document.createElement("select");
          select.dataset.level = d.device;
          select.setAttribute("aria-label", data.log_level);
          for (const level of data.levels) select.append(text("option", level));
          select.value = "info";
          const b = text("button", data.log_level);
          b.dataset.device = d.device; b.dataset.command = "log_level";
          cell.append(select, b);
          row.append(cell);
        }
        return row;
      }));
      labelCells(table.closest("table"));
    }, 200);
  }
  stream(["device"], (event) => { if (event.kind === "device" || event.kind === "resync") reload(); });
  table.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-command]");
    if (!b) return;
    const ask = data.confirm[b.dataset.command]; // a restart stops a device: one slip of the mouse must not
    if (ask && !window.confirm(ask.replace("{device}", b.dataset.device))) return;
    b.disabled = true;
    const level = table.querySelector(`select[data-level="${b.dataset.device}"]`);
    const form = b.dataset.command === "log_level" && level ? {level: level.value} : {};
    const answer = await post(`/fleet/${b.dataset.device}/${b.dataset.command}`, form, false);
    result.textContent = `${b.dataset.device} · ${b.textContent}: ${JSON.stringify(answer.result || answer.message, null, 1)}`;
    b.disabled = false;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.stack").forEach(labelCells);
  const print = document.getElementById("print");  // the statistics as a report to sign (console.css, @media print)
  if (print) print.addEventListener("click", () => window.print());
  const holder = document.getElementById("page-data");
  const data = holder ? JSON.parse(holder.textContent) : null;
  if (document.getElementById("counter")) counterScreen(data);
  else if (document.getElementById("fleet")) fleetPage(data);
  else if (document.getElementById("link-dot") && document.body.querySelector("nav")) stream([], () => {});
});
