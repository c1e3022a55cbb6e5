// Two clips played in sync: one play clock for both, looping, at one speed.
//
// The videos play natively at the clock's speed; every animation frame the clock advances and
// a video that drifted more than a frame from it is put back on it. The clock wraps at the
// longer clip's end, and both start again from their first frame together. Playback starts only
// when both videos can play.
//
// Exports:
//   SPEEDS: the speeds offered, slowest first (the desktop window's).
//   SyncPlayer: the clock, the two videos, pause, step, speed and scrub.

export const SPEEDS = [0.25, 0.5, 1, 2, 4];

function canPlay(video) {
  if (video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      video.removeEventListener("canplay", done);
      video.removeEventListener("error", failed);
      resolve();
    };
    const failed = () => {
      video.removeEventListener("canplay", done);
      video.removeEventListener("error", failed);
      reject(new Error("a clip's video cannot be played"));
    };
    video.addEventListener("canplay", done);
    video.addEventListener("error", failed);
  });
}

export class SyncPlayer {
  // videos: the left and the right <video>; onTick(player): called each animation frame.
  constructor(videos, onTick = () => {}) {
    this.videos = videos;
    this.onTick = onTick;
    this.clock = 0;
    this.duration = 0;
    this.fps = 30;
    this.speedIndex = SPEEDS.indexOf(1);
    this.playing = true;
    this.ready = false;
    this.loadId = 0;
    this.last = null;
    for (const video of videos) {
      video.muted = true;
      video.loop = false;
      video.playsInline = true;
      video.preload = "auto";
    }
    window.requestAnimationFrame((now) => this.tick(now));
  }

  get speed() {
    return SPEEDS[this.speedIndex];
  }

  // Shows two clips (object URLs or URLs); resolves when both can play, from frame 0.
  async load(urls, fps) {
    const id = ++this.loadId;
    this.ready = false;
    this.fps = fps || 30;
    this.videos.forEach((video, i) => {
      video.pause();
      video.src = urls[i];
      video.load();
    });
    await Promise.all(this.videos.map(canPlay));
    if (id !== this.loadId) return false; // another pair was loaded meanwhile
    this.duration = Math.max(...this.videos.map((v) => (Number.isFinite(v.duration) ? v.duration : 0)));
    this.clock = 0;
    this.last = null;
    this.ready = true;
    this.seekAll(true);
    return true;
  }

  clear() {
    this.loadId += 1;
    this.ready = false;
    for (const video of this.videos) {
      video.pause();
      video.removeAttribute("src");
      video.load();
    }
  }

  togglePause() {
    this.playing = !this.playing;
  }

  faster() {
    this.speedIndex = Math.min(this.speedIndex + 1, SPEEDS.length - 1);
    this.videos.forEach((video) => (video.playbackRate = this.speed));
  }

  slower() {
    this.speedIndex = Math.max(this.speedIndex - 1, 0);
    this.videos.forEach((video) => (video.playbackRate = this.speed));
  }

  restart() {
    this.scrubTo(0);
  }

  // One frame forward or back (pauses, as the window's step keys do).
  step(frames) {
    this.playing = false;
    this.scrubTo(this.clock + frames / this.fps);
  }

  // Moves the clock (both clips) to a time in seconds, kept within the clip.
  scrubTo(seconds) {
    const end = Math.max(this.duration - 1e-3, 0);
    this.clock = Math.min(Math.max(seconds, 0), end);
    this.seekAll(true);
  }

  seekAll(force) {
    for (const video of this.videos) {
      const end = Number.isFinite(video.duration) ? Math.max(video.duration - 1e-3, 0) : 0;
      const target = Math.min(this.clock, end);
      const tolerance = this.playing ? 1.5 / this.fps : 0.25 / this.fps;
      if (force || Math.abs(video.currentTime - target) > tolerance) video.currentTime = target;
      video.playbackRate = this.speed;
      const shouldPlay = this.playing && this.ready && this.clock < end;
      if (shouldPlay && video.paused) video.play().catch(() => {});
      if (!shouldPlay && !video.paused) video.pause();
    }
  }

  tick(now) {
    if (this.ready) {
      if (this.playing && this.last !== null) {
        this.clock += ((now - this.last) / 1000) * this.speed;
        if (this.clock >= this.duration) {
          this.clock = 0; // loop: both clips start again together
          this.seekAll(true);
        }
      }
      this.seekAll(false);
    }
    this.last = now;
    this.onTick(this);
    window.requestAnimationFrame((t) => this.tick(t));
  }
}
