{{/* Names, labels and the pieces every pod of the chart shares. */}}

{{- define "ado.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ado.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ado.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ado.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" . "component" "api") */}}
{{- define "ado.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ado.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ado.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "ado.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ado.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ado.secretName" -}}
{{- default (include "ado.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* The values the chart cannot run without; a clear message instead of a broken pod. */}}
{{- define "ado.validate" -}}
{{- if not .Values.existingSecret -}}
{{- if not .Values.database.url -}}
{{- fail "database.url is required (postgresql://user:password@host:5432/ado), or existingSecret with a databaseUrl key: several ADO pods cannot share a SQLite file" -}}
{{- end -}}
{{- if not (hasPrefix "postgres" .Values.database.url) -}}
{{- fail "database.url must be a PostgreSQL URL (postgresql://...): several ADO pods cannot share a SQLite file" -}}
{{- end -}}
{{- if and .Values.worker.enabled (not .Values.broker.url) -}}
{{- fail "broker.url is required while worker.enabled (redis://:password@host:6379/0), or existingSecret with a brokerUrl key" -}}
{{- end -}}
{{- if lt (len .Values.secretKey) 16 -}}
{{- fail "secretKey is required: 16+ characters or a Fernet key (it encrypts the secrets saved from the dashboard, and every pod must share it), or existingSecret with a secretKey key" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* ado.config.yaml: the values' config, the executor following worker.enabled. */}}
{{- define "ado.config" -}}
{{- $orchestration := merge (dict "executor" (ternary "celery" "local" .Values.worker.enabled)) (default (dict) .Values.config.orchestration) -}}
{{- $config := merge (dict "orchestration" $orchestration) (omit .Values.config "orchestration") -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The environment of the API and worker containers. */}}
{{- define "ado.env" -}}
- name: ADO_CONFIG
  value: /etc/ado/ado.config.yaml
- name: ADO_DB_UPGRADE
  value: "0"
- name: ADO_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ include "ado.secretName" . }}, key: databaseUrl}
{{- if .Values.worker.enabled }}
- name: ADO_BROKER_URL
  valueFrom:
    secretKeyRef: {name: {{ include "ado.secretName" . }}, key: brokerUrl}
{{- end }}
- name: ADO_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ include "ado.secretName" . }}, key: secretKey}
{{- range $name, $_ := .Values.apiKeys }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef: {name: {{ include "ado.secretName" $ }}, key: {{ $name }}}
{{- end }}
{{- end -}}

{{/* Writable places under a read-only root filesystem, the configuration and the workspace. */}}
{{- define "ado.volumeMounts" -}}
- {name: config, mountPath: /etc/ado, readOnly: true}
- {name: home, mountPath: /home/ado}
- {name: tmp, mountPath: /tmp}
- {name: workspace, mountPath: /workspace}
{{- end -}}

{{- define "ado.volumes" -}}
- name: config
  configMap: {name: {{ include "ado.fullname" . }}}
- name: home
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: workspace
{{- if .Values.workspace.existingClaim }}
  persistentVolumeClaim: {claimName: {{ .Values.workspace.existingClaim }}}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end -}}
