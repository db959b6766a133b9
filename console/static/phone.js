// The ticket page live: each update's sentences put in place; a call flashes, sounds and vibrates where allowed.
"use strict";
(function () {
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  let audio = null;
  let status = null;
  let retry = 2000;

  function set(id, text) {
    const el = $(id);
    el.textContent = text || "";
    el.hidden = !text;
  }

  function alert() {
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
    if (!audio) return;
    const now = audio.currentTime;
    [0, 0.5, 1.0].forEach((at) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.4, now + at);
      gain.gain.exponentialRampToValueAtTime(0.001, now + at + 0.4);
      tone.connect(gain); // not chained: an older WebKit's connect returns nothing
      gain.connect(audio.destination);
      tone.start(now + at);
      tone.stop(now + at + 0.4);
    });
  }

  function show(update) {
    const say = update.say;
    set("service", say.service);
    set("call", say.call);
    set("place", say.place);
    set("wait", say.wait);
    set("note", say.note);
    $("sound").hidden = !say.place; // only while waiting for the turn it would sound for
    if (update.status === "called" && status !== null && status !== "called") {
      $("call").classList.add("flash");
      alert();
    }
    status = update.status;
  }

  function listen() {
    if (!window.EventSource) { // a browser without live updates reads the page again, as with scripts off
      setTimeout(() => location.reload(), Number(body.dataset.reload) * 1000);
      return;
    }
    $("sound").hidden = !$("place").textContent; // shown by the script that sounds it, while the turn is to come
    const source = new EventSource(body.dataset.live);
    source.onmessage = (e) => {
      retry = 2000;
      set("lost", "");
      const update = JSON.parse(e.data);
      if (update.kind === "view") show(update);
      else if (update.kind === "reload") location.reload();
    };
    source.onerror = () => {
      source.close();
      set("lost", body.dataset.lost);
      setTimeout(listen, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  $("sound").addEventListener("click", () => {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !audio) audio = new Context();
    if (audio) audio.resume();
    $("sound").textContent = body.dataset.ready;
  });
  listen();
})();
