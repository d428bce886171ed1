/** Apache Kafka release run by the dev services; chosen by the kafkajs smoke test (docs/decisions.md, "Dev services"). */
export const KAFKA_VERSION = '4.4.0';

/** Apache Hadoop release whose `hadoop-client-minicluster` runs HDFS for the dev services. */
export const HADOOP_VERSION = '3.4.2';

/** `maven-dependency-plugin` release used to copy the jars; pinned so resolution does not drift. */
export const MAVEN_DEPENDENCY_PLUGIN_VERSION = '3.8.1';

/** The services this package runs. */
export type ServiceName = 'kafka' | 'hdfs';
