/* The subcommands of multiarch-controller, each in its own file under cmd/. */
#ifndef MAC_CMD_COMMANDS_H
#define MAC_CMD_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_fetch(int argc, char **argv);

#endif
