// Loaded first into a hub process (`node --import`) to stand for a host whose system clock is off:
// Date reads the real time shifted by SHIFTED_CLOCK_MS milliseconds. Timers and performance.now(),
// like the kernel's monotonic clock, are untouched.
const shiftMs = Number(process.env.SHIFTED_CLOCK_MS ?? 0);
const RealDate = globalThis.Date;

class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + shiftMs);
    else super(...args);
  }

  static now() {
    return RealDate.now() + shiftMs;
  }
}

globalThis.Date = ShiftedDate;
