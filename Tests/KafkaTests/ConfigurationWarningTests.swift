import Testing
@testable import Kafka

@Suite("librdkafka's configuration warnings")
struct ConfigurationWarningTests {
    @Test("a property of the other kind of client is expected (one map configures both); other warnings stay warnings")
    func otherClientsProperties() {
        #expect(RDKafkaCallbackContext.isExpectedConfigurationWarning(
            facility: "CONFWARN", "[thrd:app]: Configuration property session.timeout.ms is a consumer property and will be ignored by this producer instance"))
        #expect(RDKafkaCallbackContext.isExpectedConfigurationWarning(
            facility: "CONFWARN", "[thrd:app]: Configuration property linger.ms is a producer property and will be ignored by this consumer instance"))
        #expect(!RDKafkaCallbackContext.isExpectedConfigurationWarning(
            facility: "CONFWARN", "[thrd:app]: Configuration property sasl.mechanisms is deprecated"))
        #expect(!RDKafkaCallbackContext.isExpectedConfigurationWarning(
            facility: "FAIL", "is a consumer property and will be ignored by this producer instance"))
    }
}
