/* The live status page served at / : one HTML document whose script follows the builds over a websocket. */
#include "controller/statuspage.h"
#include "util/banned.h"

const char ctl_status_page_html[] = "<!doctype html>\n"
				    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>multiarch-controller</title>\n"
				    "<link rel=\"stylesheet\" href=\"/status.css\">\n"
				    "</head><body>\n"
				    "<h1>multiarch-controller <span id=\"state\">connecting</span></h1>\n"
				    "<p id=\"summary\"></p>\n"
				    "<table><thead><tr><th>build</th><th>phase</th><th>platforms</th><th>image</th></tr></thead>\n"
				    "<tbody id=\"builds\"></tbody></table>\n"
				    "<script src=\"/status.js\"></script>\n"
				    "</body></html>\n";

/* Served apart from the page: the server's Content-Security-Policy allows only same-origin scripts and styles. */
const char ctl_status_page_css[] =
	"body{font:14px system-ui,sans-serif;margin:1.5em;color:#1b1f24}\n"
	"h1{font-size:1.3em}table{border-collapse:collapse;width:100%}\n"
	"th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #d0d7de;vertical-align:top}\n"
	".Succeeded{color:#1a7f37}.Failed{color:#cf222e}.Building,.Merging{color:#9a6700}.Waiting,.Pending{color:#57606a}\n"
	"code{font-size:.9em}#state{float:right;color:#57606a}\n";

const char ctl_status_page_js[] =
	"function esc(s){return String(s==null?'':s).replace(/[&<>\"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;'}[c]));}\n"
	"function render(doc){\n"
	"  const rows=doc.builds.map(b=>'<tr data-build=\"'+esc(b.namespace+'/'+b.name)+'\"><td>'+esc(b.namespace+'/'+b.name)+'</td>'+\n"
	"    '<td class=\"'+esc(b.phase)+'\">'+esc(b.phase||'Pending')+'</td><td>'+\n"
	"    (b.platforms||[]).map(p=>'<div class=\"'+esc(p.phase)+'\">'+esc(p.platform)+': '+esc(p.phase)+\n"
	"      (p.node?' on '+esc(p.node):'')+(p.attempts>1?' (attempt '+p.attempts+')':'')+'</div>').join('')+\n"
	"    '</td><td><code>'+esc(b.image||'')+'</code></td></tr>');\n"
	"  document.getElementById('builds').innerHTML=rows.join('');\n"
	"  document.getElementById('summary').textContent=doc.total+' builds'+(doc.total>doc.builds.length?' ('+doc.builds.length+' "
	"shown)':'')+', '+(doc.leader?'leader':'standby')+', updated '+new Date().toLocaleTimeString();\n"
	"}\n"
	"function connect(){\n"
	"  const ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/ws','multiarch-status');\n"
	"  ws.onopen=()=>{document.getElementById('state').textContent='live';};\n"
	"  ws.onmessage=e=>render(JSON.parse(e.data));\n"
	"  ws.onclose=()=>{document.getElementById('state').textContent='reconnecting';setTimeout(connect,1000);};\n"
	"}\n"
	"connect();\n";
