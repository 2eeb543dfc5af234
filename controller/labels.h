/* The labels and annotations the controller puts on its children, part of the command-line contract. */
#ifndef MAC_CONTROLLER_LABELS_H
#define MAC_CONTROLLER_LABELS_H

#define CTL_LABEL_PREFIX "multiarch.dev/"               /* every label of the controller's own */
#define CTL_LABEL_BUILD "multiarch.dev/build"           /* the MultiArchBuild's name */
#define CTL_LABEL_ROLE "multiarch.dev/role"             /* "build" or "index" */
#define CTL_LABEL_PLATFORM "multiarch.dev/platform"     /* "linux-arm64" */
#define CTL_LABEL_GENERATION "multiarch.dev/generation" /* the build's metadata.generation */
#define CTL_LABEL_ATTEMPT "multiarch.dev/attempt"       /* 1, 2, ... */
#define CTL_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define CTL_ANNOTATION_REPOSITORY "multiarch.dev/repository" /* where a build pod pushes, by digest */
#define CTL_ANNOTATION_PLATFORM "multiarch.dev/platform"     /* "linux/arm64/v8" as written in the spec */

#define CTL_ROLE_BUILD "build"
#define CTL_ROLE_INDEX "index"
#define CTL_MANAGER "multiarch-controller"

#define CTL_API_GROUP "multiarch.dev"
#define CTL_API_VERSION "v1alpha1"
#define CTL_KIND "MultiArchBuild"
#define CTL_RESOURCE "multiarchbuilds"

#endif
