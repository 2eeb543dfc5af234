/* The labels and annotations the controller puts on its children, part of the command-line contract, and their
 * reading back. */
#ifndef MAC_CONTROLLER_LABELS_H
#define MAC_CONTROLLER_LABELS_H

#define CTL_LABEL_PREFIX "multiarch.dev/"               /* every label of the controller's own */
#define CTL_LABEL_BUILD "multiarch.dev/build"           /* the MultiArchBuild's name */
#define CTL_LABEL_ROLE "multiarch.dev/role"             /* "build" or "index" */
#define CTL_LABEL_PLATFORM "multiarch.dev/platform"     /* "linux-arm64" */
#define CTL_LABEL_GENERATION "multiarch.dev/generation" /* the build's metadata.generation */
#define CTL_LABEL_ATTEMPT "multiarch.dev/attempt"       /* 1, 2, ... */
#define CTL_LABEL_REQUEST "multiarch.dev/request"       /* 8 hex of the requested-at annotation; absent without one */
#define CTL_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define CTL_ANNOTATION_REPOSITORY "multiarch.dev/repository" /* where a build pod pushes, by digest */
#define CTL_ANNOTATION_PLATFORM "multiarch.dev/platform"     /* "linux/arm64/v8" as written in the spec */
/* on a MultiArchBuild: any new value builds the same spec again (a GitOps-safe rebuild) */
#define CTL_ANNOTATION_REQUESTED_AT "multiarch.dev/requested-at"

#define CTL_ROLE_BUILD "build"
#define CTL_ROLE_INDEX "index"
#define CTL_MANAGER "multiarch-controller"

#define CTL_API_GROUP "multiarch.dev"
#define CTL_API_VERSION "v1alpha1"
#define CTL_KIND "MultiArchBuild"
#define CTL_RESOURCE "multiarchbuilds"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* The value of label key on obj (a Kubernetes object, borrowed), or NULL. */
const char *ctl_label(const cJSON *obj, const char *key);

/* The label as a whole number (generation, attempt), or -1 when it is missing or not one. */
long ctl_label_number(const cJSON *obj, const char *key);

/* Whether obj's controller owner (the ownerReference with controller: true) has uid (false when uid is NULL). */
bool ctl_controlled_by(const cJSON *obj, const char *uid);

#endif
