// Package lakerelay moves security data between Amazon S3 and the systems
// around it: it collects log objects announced by S3 event notifications,
// exports raw records as compressed JSONL under connector and vendor key
// layouts, delivers OCSF events as zstd Parquet to Amazon Security Lake, and
// generates and checks the IAM policies those jobs need.
//
// This root package holds only the shared vocabulary that every other package
// speaks, and imports none of them:
//
//   - [Record]: one event as bytes, with its [Origin] and an [AckFunc];
//   - [Source] and [Sink]: the two seams a pipeline is built from;
//   - the common errors ([ErrClosed], [ErrInvalidRecord], [ErrTooLarge]) and
//     [Permanent], which marks an error that retrying cannot fix;
//   - [Finding] and [Severity]: what every validator (OCSF events, IAM
//     policies, Security Lake locations) reports, and [HasErrors];
//   - [Observer], [Labels], the Metric… names and the Class… problem
//     classes: what every component reports when given an Observer (nil
//     observes nothing), the one vocabulary of the metrics package's
//     Prometheus and OpenTelemetry views.
//
// The packages:
//
//	source/     Sources: SQS-notified S3 objects, S3 prefix listing, local files
//	batch/      Batcher: groups records per partition; count/bytes/age limits; backpressure; Run
//	quarantine/ durable quarantine of records that can never be processed
//	sink/       Sinks: JSONL objects to S3 or a directory; stores
//	sink/securitylake/  OCSF events as Parquet in Security Lake's layout
//	metrics/    Prometheus and OpenTelemetry views of an [Observer]; the drop-off alarm
//	partition/  object key builders and validators
//	ocsf/       OCSF types, validation, Arrow schemas, the CloudTrail mapper
//	iamcheck/   IAM policy parsing, evaluation, lints, generators and a live probe
//	setup/      deployable templates of a job; plan/apply of the collector's queues
//
// # Delivery
//
// lakerelay delivers at least once, end to end. A source hands out each record
// with an acknowledgement function; the record is settled exactly once, by
// calling [Record.Ack] with nil (done: the data is durable elsewhere or was
// deliberately dropped, for example quarantined) or with an error (not done:
// the source must make the data redeliverable). A source deletes an SQS
// message only when every record from every object it names was acknowledged
// with nil. Sinks never acknowledge; the batcher acknowledges the records of a
// batch only after the sink stored it.
//
// Duplicates are possible (a crash after the store but before the delete);
// losses are not.
//
// # Options
//
// Every constructor follows one rule. Required values are positional
// arguments (a client, a bucket, a queue URL). Everything else is in an
// exported Options struct set through func(*Options) arguments, validated
// once by the constructor, all problems joined in one error naming the
// fields. In an Options struct the zero value of a field means its default,
// stated in the field's doc and exported as a Default… constant; where zero
// is itself a meaningful setting (no retries, no limit), the field is a
// pointer or the setting is a named constant, so that leaving a field unset
// never silently means "zero".
package lakerelay
