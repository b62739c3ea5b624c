/**
 * The console's stylesheet and script, served from the daemon itself (no CDN: the console works
 * with no internet) under a Content-Security-Policy that allows nothing else.
 */

export const CONSOLE_CSS = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; --accent: #0969da;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --pending: #8250df; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #fff; }
header { display: flex; align-items: center; gap: 20px; padding: 10px 24px; background: #24292f; }
header .brand { color: #fff; font-weight: 600; text-decoration: none; margin-right: 8px; }
header nav a { color: #d0d7de; text-decoration: none; margin-right: 16px; }
header nav a.here, header nav a:hover { color: #fff; }
header form { margin-left: auto; display: flex; gap: 6px; }
header input[type=search] { width: 240px; padding: 5px 8px; border-radius: 6px; border: 1px solid #57606a;
  background: #32383f; color: #fff; }
main { padding: 20px 24px 40px; max-width: 1200px; }
h1 { font-size: 20px; margin: 0 0 16px; }
h2 { font-size: 16px; margin: 28px 0 10px; }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: #fff;
  text-decoration: none; color: inherit; display: block; }
.card .n { font-size: 28px; font-weight: 600; }
.card .label { color: var(--muted); }
.card.ok .n { color: var(--ok); } .card.bad .n { color: var(--bad); }
.card.warn .n { color: var(--warn); } .card.pending .n { color: var(--pending); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { background: var(--bg); font-weight: 600; }
td.num, th.num { text-align: right; }
code, .mono { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: var(--bg);
  border: 1px solid var(--line); }
.pill.ok { color: var(--ok); border-color: var(--ok); } .pill.bad { color: var(--bad); border-color: var(--bad); }
.pill.warn { color: var(--warn); border-color: var(--warn); }
button, .button { font: inherit; padding: 4px 12px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--bg); color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: #1f883d; border-color: #1a7f37; color: #fff; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
form.inline { display: inline; margin: 0; }
.notice { padding: 10px 14px; border-radius: 8px; border: 1px solid var(--ok); background: #dafbe1; margin-bottom: 16px; }
.error { padding: 10px 14px; border-radius: 8px; border: 1px solid var(--bad); background: #ffebe9; margin-bottom: 16px; }
.confirm { border: 1px solid var(--warn); background: #fff8c5; border-radius: 8px; padding: 14px 16px; }
.actions { display: flex; gap: 8px; margin: 10px 0; align-items: center; }
dl.kv { display: grid; grid-template-columns: 180px 1fr; gap: 4px 12px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: #fff; }
.legend span { margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
`;

/** Buttons disable themselves once their form is sent, so one click is one action. */
export const CONSOLE_JS = `
document.addEventListener('submit', function (event) {
  var form = event.target;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = '1';
  form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
});
document.querySelectorAll('time[datetime]').forEach(function (t) {
  var ms = Date.now() - Date.parse(t.getAttribute('datetime'));
  if (!(ms >= 0)) return;
  var s = Math.round(ms / 1000);
  var ago = s < 60 ? s + 's' : s < 3600 ? Math.round(s / 60) + ' min' : s < 86400 ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' d';
  t.title = t.textContent;
  t.textContent = ago + ' ago';
});
`;
