// API Priority and Fairness (APF): the API server's own admission control, on by default since Kubernetes 1.20 and
// GA in 1.29. A server with it names, on every classified response, the flow schema and priority level that
// governed the request (k8s.io/api/flowcontrol/v1 ResponseHeaderMatched*UID). Clients read their presence to know
// that the server queues and rejects (429) by itself, so that a client-side rate cap only slows them down.

export const APF_FLOW_SCHEMA_HEADER = 'X-Kubernetes-PF-FlowSchema-UID';
export const APF_PRIORITY_LEVEL_HEADER = 'X-Kubernetes-PF-PriorityLevel-UID';
