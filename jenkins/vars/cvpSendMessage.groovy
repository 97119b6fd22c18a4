import com.example.cvp.CiMessage
import com.example.cvp.Values
import groovy.json.JsonOutput

/**
 * cvpSendMessage(topic:, body:, properties: [:], providerName: 'Red Hat UMB', jmsPlugin: '2'):
 * sends one CI message with the JMS Messaging plugin's sendCIMessage step and returns what it returns
 * (a SendResult: not Serializable, so do not keep it in a variable across later steps; take its
 * messageId).
 *   topic        bare topic name, e.g. VirtualTopic.eng.ci.brew-build.test.complete
 *   body         a Map (serialized to JSON) or a JSON string
 *   properties   JMS message properties (identifier keys; null values are left out)
 *   providerName the provider to publish with: one whose useQueues is off, so that the topic
 *                override is a topic (a provider has one useQueues switch for sending and listening)
 *   jmsPlugin    the plugin's major: '1' (1.1.x: sendCIMessage(providerName:, overrides:,
 *                messageType:, messageProperties:, messageContent:, failOnError:)) or '2' (2.0.x:
 *                sendCIMessage(activeMQPublisher(name:, overrides:, messageProperties:,
 *                messageContent:, failOnError:))); 'v1' and 'v2' are read the same
 * The plugin fails the build when the message cannot be sent (failOnError: true).
 * Note: the plugin replaces ${VAR} in the content with build variables; a body that must carry a
 * literal ${...} cannot be sent through it unchanged.
 */
def call(Map args) {
    if (Values.blank(args.topic)) {
        error('cvpSendMessage: topic: missing')
    }
    if (args.body == null) {
        error('cvpSendMessage: body: missing')
    }
    String major = Values.jmsMajor(args.jmsPlugin)
    if (major == null) {
        error("cvpSendMessage: jmsPlugin: '${args.jmsPlugin}' is not 1 or 2 (the JMS Messaging plugin's major)")
    }
    String content = args.body instanceof CharSequence ? args.body.toString() : JsonOutput.toJson(args.body)
    String props = CiMessage.properties(args.properties ?: [:])
    String provider = args.providerName ?: 'Red Hat UMB'
    if (major == '1') {
        return sendCIMessage(
            providerName: provider,
            overrides: [topic: args.topic.toString()],
            messageType: 'Custom',
            messageProperties: props,
            messageContent: content,
            failOnError: true)
    }
    return sendCIMessage(activeMQPublisher(
        name: provider,
        overrides: [topic: args.topic.toString()],
        messageProperties: props,
        messageContent: content,
        failOnError: true))
}
