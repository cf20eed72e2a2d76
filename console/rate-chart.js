// A tiny line chart on a canvas: one value per second, newest on the right.

/**
 * @param {HTMLCanvasElement} canvas
 * @param {number[]} values
 * @param {string} color
 */
export function drawRateChart(canvas, values, color) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(1, ...values);
  ctx.strokeStyle = '#e3e5ea';
  ctx.lineWidth = 1;
  for (const f of [0.25, 0.5, 0.75]) {
    ctx.beginPath();
    ctx.moveTo(0, height * f);
    ctx.lineTo(width, height * f);
    ctx.stroke();
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = values.length < 2 ? 0 : (i / (values.length - 1)) * width;
    const y = height - 4 - (v / max) * (height - 12);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#556';
  ctx.font = '11px system-ui';
  ctx.fillText(`max ${max}/s`, 4, 11);
}
