{{/* Labels every object of the release carries. */}}
{{- define "todo.labels" -}}
app.kubernetes.io/part-of: todo-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
todo.platform/environment: {{ .Values.environment }}
{{- end -}}

{{/* The app ids of the enabled services. */}}
{{- define "todo.appIds" -}}
{{- range $id, $app := .Values.apps }}{{ if $app.enabled }}{{ $id }} {{ end }}{{ end -}}
{{- end -}}

{{/* Scopes list for a Dapr resource: every enabled app id, and chat when its store is on. */}}
{{- define "todo.allScopes" -}}
scopes:
{{- range $id, $app := .Values.apps }}
{{- if $app.enabled }}
  - {{ $id }}
{{- end }}
{{- end }}
{{- if .Values.chat.enabled }}
  - chat
{{- end }}
{{- end -}}

{{/* Secret store of the components' secretKeyRefs: Key Vault, or (keyVault.enabled false) none,
so Dapr resolves them from the namespace's Kubernetes Secrets. */}}
{{- define "todo.secretStore" -}}
{{- if .Values.keyVault.enabled -}}
auth:
  secretStore: {{ .Values.keyVault.storeName }}
{{- end -}}
{{- end -}}
