/* The live status page served at / : one HTML document whose script follows the builds over a websocket. */
#ifndef MAC_CONTROLLER_STATUSPAGE_H
#define MAC_CONTROLLER_STATUSPAGE_H

extern const char ctl_status_page_html[];
extern const char ctl_status_page_css[];
extern const char ctl_status_page_js[];

#endif
