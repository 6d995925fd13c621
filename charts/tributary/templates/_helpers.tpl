{{- define "tributary.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tributary.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "tributary.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "tributary.env" -}}
- name: TRIBUTARY_LISTEN
  value: "0.0.0.0:{{ .Values.service.port }}"
- name: TRIBUTARY_KAFKA_BOOTSTRAP
  value: {{ .Values.kafka.bootstrap | quote }}
- name: TRIBUTARY_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
- name: TRIBUTARY_KAFKA_USERNAME
  value: {{ .Values.kafka.username | quote }}
{{- if .Values.kafka.caConfigMap }}
- name: TRIBUTARY_KAFKA_CA_LOCATION
  value: /etc/tributary/kafka-ca/ca.pem
{{- end }}
- name: TRIBUTARY_LOG
  value: {{ .Values.log.level | quote }}
- name: TRIBUTARY_LOG_FORMAT
  value: {{ .Values.log.format | quote }}
- name: TRIBUTARY_SITE_ROOT
  value: /srv/tributary/site
{{- if .Values.trustedProxies }}
- name: TRIBUTARY_TRUSTED_PROXIES
  value: {{ .Values.trustedProxies | quote }}
{{- end }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: { name: {{ required "existingSecret is required" .Values.existingSecret }}, key: DATABASE_URL }
- name: TRIBUTARY_KAFKA_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ .Values.existingSecret }}, key: TRIBUTARY_KAFKA_PASSWORD }
- name: TRIBUTARY_JWT_KEYS
  valueFrom:
    secretKeyRef: { name: {{ .Values.existingSecret }}, key: TRIBUTARY_JWT_KEYS }
- name: TRIBUTARY_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef: { name: {{ .Values.existingSecret }}, key: TRIBUTARY_ENCRYPTION_KEYS }
{{- end -}}
