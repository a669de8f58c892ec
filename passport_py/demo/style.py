"""The demo's stylesheet, inlined into every page: no build step, no file to serve, nothing
fetched from elsewhere (system fonts only). Light and dark follow the visitor's setting."""

from __future__ import annotations

__all__ = ["STYLE"]

STYLE = """
:root{color-scheme:light dark;--bg:#f4f5fa;--card:#fff;--text:#161a23;--muted:#535b6b;
--line:#d9dde7;--accent:#4338ca;--accent-hover:#3730a3;--on-accent:#fff;--soft:#eef0ff;
--ring:#1d4ed8;--danger:#b42318;--danger-bg:#fef3f2;--danger-line:#fecdca;--ok:#067647;
--ok-bg:#ecfdf3;--ok-line:#abefc6;--radius:14px;--shadow:0 1px 2px rgb(16 24 40/.06),
0 4px 16px rgb(16 24 40/.06)}
@media (prefers-color-scheme:dark){:root{--bg:#0f1117;--card:#181b24;--text:#e9ebf1;
--muted:#a3aabb;--line:#2c3140;--accent:#8b8ff8;--accent-hover:#a5a8fa;--on-accent:#10121a;
--soft:#22253a;--ring:#93c5fd;--danger:#fda29b;--danger-bg:#2d1514;--danger-line:#5c2420;
--ok:#75e0a7;--ok-bg:#0f2a1d;--ok-line:#1f5138;--shadow:none}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);line-height:1.55;
font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--accent);text-underline-offset:.18em}
a:hover{color:var(--accent-hover)}
:focus-visible{outline:3px solid var(--ring);outline-offset:2px;border-radius:6px}
.skip{position:absolute;left:.75rem;top:.5rem;z-index:2;padding:.5rem .9rem;
background:var(--card);border-radius:8px;transform:translateY(-200%)}
.skip:focus{transform:none}
.top{background:var(--card);border-bottom:1px solid var(--line)}
.bar,.wrap{width:100%;max-width:46rem;margin:0 auto;padding:0 1.25rem}
.bar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;
gap:.5rem 1.25rem;padding-top:.7rem;padding-bottom:.7rem}
.brand{display:inline-flex;align-items:center;gap:.55rem;font-weight:700;color:var(--text);
text-decoration:none;letter-spacing:-.01em}
.brand:hover{color:var(--text)}
.logo{display:inline-grid;place-items:center;width:1.9rem;height:1.9rem;border-radius:9px;
background:var(--accent);color:var(--on-accent);font-size:.95rem}
.brand small{font-weight:500;color:var(--muted)}
nav ul{display:flex;flex-wrap:wrap;align-items:center;gap:.35rem 1rem;margin:0;padding:0;
list-style:none}
nav a{text-decoration:none;font-weight:500}
nav a:hover,nav a[aria-current=page]{text-decoration:underline}
nav form{margin:0}
.who{color:var(--muted);font-size:.93rem}
main.wrap{padding-top:2.25rem;padding-bottom:1.5rem}
main.slim{max-width:30rem}
h1{font-size:clamp(1.6rem,4.5vw,2.1rem);line-height:1.2;letter-spacing:-.02em;margin:0 0 1.1rem}
h2{font-size:1.1rem;margin:0 0 .6rem}
p{margin:0 0 .8rem}
.lead{font-size:1.08rem;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);
box-shadow:var(--shadow);padding:1.35rem 1.4rem;margin:0 0 1.1rem}
.card>:last-child{margin-bottom:0}
.muted,small{color:var(--muted)}
.pair{white-space:nowrap}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);
padding:.1em .35em;border-radius:5px;overflow-wrap:anywhere}
pre{margin:.5rem 0 0;padding:.8rem 1rem;background:var(--soft);border-radius:10px;
white-space:pre-wrap;overflow-wrap:anywhere}
pre code{padding:0;background:none}
.field{margin:0 0 1rem}
.field label{display:block;font-weight:600;margin:0 0 .3rem}
input[type=text],input[type=password],input:not([type]){display:block;width:100%;
font:inherit;color:inherit;background:var(--card);padding:.65rem .8rem;
border:1px solid var(--line);border-radius:10px}
input:focus{border-color:var(--ring)}
.check{display:flex;align-items:center;gap:.55rem;margin:0 0 1.2rem}
input[type=checkbox],input[type=radio]{width:1.15rem;height:1.15rem;margin:0;
accent-color:var(--accent)}
button,.button{display:inline-flex;align-items:center;justify-content:center;gap:.4rem;
min-height:2.75rem;padding:.6rem 1.15rem;font:inherit;font-weight:600;line-height:1.2;
text-decoration:none;border-radius:10px;border:1px solid var(--accent);background:var(--accent);
color:var(--on-accent);cursor:pointer}
button:hover,.button:hover{background:var(--accent-hover);border-color:var(--accent-hover);
color:var(--on-accent)}
.secondary{background:transparent;color:var(--accent)}
.secondary:hover{background:var(--soft);color:var(--accent)}
.danger{background:transparent;color:var(--danger);border-color:var(--danger-line)}
.danger:hover{background:var(--danger-bg);color:var(--danger);border-color:var(--danger)}
.quiet{min-height:0;padding:.2rem 0;border:0;background:none;color:var(--accent);
font-weight:500;text-decoration:underline;text-underline-offset:.18em}
.quiet:hover{background:none;color:var(--accent-hover)}
.wide{width:100%}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center}
.actions form{margin:0}
.or{display:flex;align-items:center;gap:.8rem;margin:1.1rem 0;color:var(--muted);
font-size:.9rem}
.or::before,.or::after{content:"";flex:1;border-top:1px solid var(--line)}
.flash{padding:.75rem 1rem;border-radius:10px;border:1px solid;margin:0 0 1.1rem;
font-weight:500}
.flash.error{color:var(--danger);background:var(--danger-bg);border-color:var(--danger-line)}
.flash.success{color:var(--ok);background:var(--ok-bg);border-color:var(--ok-line)}
.status{font-weight:700;letter-spacing:.08em;text-transform:uppercase;font-size:.8rem;
color:var(--muted);margin:0 0 .4rem}
ul.plain{list-style:none;margin:0;padding:0}
.qr svg{display:block;width:12rem;height:12rem;margin:0 0 1rem;background:#fff;padding:.5rem;
border-radius:10px}
ul.codes{columns:2;margin:0 0 1rem;padding-left:1.2rem}
input[type=email]{display:block;width:100%;font:inherit;color:inherit;background:var(--card);
padding:.65rem .8rem;border:1px solid var(--line);border-radius:10px}
.badge{display:inline-block;font-weight:600;font-size:.85rem;padding:.2rem .6rem;
border-radius:999px;color:var(--ok);background:var(--ok-bg);border:1px solid var(--ok-line)}
footer{padding-bottom:2.5rem;font-size:.9rem;color:var(--muted)}
@media (max-width:30rem){.bar,.wrap{padding:0 1rem}.bar{padding-top:.6rem;padding-bottom:.6rem}
main.wrap{padding-top:1.5rem}
.who .long{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);
white-space:nowrap}.card{padding:1.1rem}.actions>*,.actions button,.actions .button{
flex:1 1 100%}.actions button,.actions .button{width:100%}}
"""
"""The demo's stylesheet, inlined into every page (no files or fonts from elsewhere)."""
