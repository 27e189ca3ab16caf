// Package awsenv builds the aws.Config the example programs use: the
// standard credential chain (environment, shared config and SSO, IMDS),
// service endpoints from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / _SQS /
// _STS, and, when a role is given, credentials from STS AssumeRole with an
// optional ExternalId.
//
// It is internal: library users build their aws.Config with the SDK's
// config and stscreds packages as they see fit and hand the clients to the
// sources and stores.
package awsenv
