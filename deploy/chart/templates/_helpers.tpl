{{/* Names, labels and the image reference shared by the chart's templates. */}}

{{/* The labels of every object: the name deploy/ uses, and Helm's conventional ones. */}}
{{- define "mac.labels" -}}
app.kubernetes.io/name: multiarch-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The controller pods' selector: deploy/'s, so that a Deployment installed from deploy/install.yaml can be
adopted (a selector is immutable); the objects' names are fixed too, so a cluster has one release. */}}
{{- define "mac.selector" -}}
app.kubernetes.io/name: multiarch-controller
{{- end -}}

{{/* The controller image: repository@digest when a digest is given, else repository:tag (tag: appVersion). */}}
{{- define "mac.image" -}}
{{- if .Values.image.digest -}}
{{- if not (hasPrefix "sha256:" .Values.image.digest) -}}
{{- fail "image.digest must start with sha256:" -}}
{{- end -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The build namespaces, checked: a list of names, at most 16 in a namespaced install. */}}
{{- define "mac.buildNamespaces" -}}
{{- if not (has .Values.installScope (list "cluster" "namespaced")) -}}
{{- fail (printf "installScope must be cluster or namespaced, not %q" .Values.installScope) -}}
{{- end -}}
{{- if and (eq .Values.installScope "namespaced") (or (eq (len .Values.buildNamespaces.names) 0) (gt (len .Values.buildNamespaces.names) 16)) -}}
{{- fail "a namespaced install needs 1 to 16 buildNamespaces.names" -}}
{{- end -}}
{{- join "," .Values.buildNamespaces.names -}}
{{- end -}}
