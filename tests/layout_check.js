// Run in a page by tests/test_site_review.py: every table (dropdowns and <details> opened) must end within
// its horizontal scroll container or, outside one, within the window; the container within the window; its
// caption wholly in view (within the container's visible part). Returns {tables, problems}.
() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const vw = document.documentElement.clientWidth;
  const problems = [];
  let tables = 0;
  const scroller = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return a;
    }
    return null;
  };
  const name = t => (t.querySelector('caption') || t).textContent.trim().replace(/\s+/g, ' ').slice(0, 50);
  const px = v => Math.round(v);
  for (const t of document.querySelectorAll('article table')) {
    if (!t.getClientRects().length) continue;
    tables += 1;
    const r = t.getBoundingClientRect(), s = scroller(t);
    const overflow = s ? getComputedStyle(s).overflowX : 'visible';
    const box = s ? s.getBoundingClientRect() : {left: 0, right: vw};
    const shown = {left: Math.max(box.left, 0), right: Math.min(box.right, vw)};
    if (box.left < -1 || box.right > vw + 1) {
      problems.push(`table "${name(t)}": its container spans ${px(box.left)}–${px(box.right)}, the window 0–${vw}`);
    }
    if (!s && r.right > vw + 1) problems.push(`table "${name(t)}": ends at ${px(r.right)}, beyond the window (${vw})`);
    if (s && ['hidden', 'clip'].includes(overflow) && r.right > box.right + 1) {
      problems.push(`table "${name(t)}": cut off at ${px(box.right)} (overflow ${overflow}), ends at ${px(r.right)}`);
    }
    const c = t.querySelector('caption');
    if (c) {
      const cr = c.getBoundingClientRect();
      if (cr.left < shown.left - 1 || cr.right > shown.right + 1) {
        problems.push(`caption "${name(t)}": spans ${px(cr.left)}–${px(cr.right)}, in view ${px(shown.left)}–${px(shown.right)}`);
      }
    }
  }
  return {tables, problems};
}
