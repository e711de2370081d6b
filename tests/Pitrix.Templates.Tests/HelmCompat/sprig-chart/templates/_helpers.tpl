{{- define "sprig.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 20 | trimSuffix "-" -}}
{{- end -}}

{{- define "sprig.labels" -}}
app: {{ .Chart.Name }}
release: {{ .Release.Name | quote }}
version: {{ .Chart.Version }}
{{- end -}}
