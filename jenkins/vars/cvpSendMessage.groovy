import com.example.cvp.CiMessage
import com.example.cvp.Values
import groovy.json.JsonOutput

/**
 * cvpSendMessage(topic:, body:, properties: [:], providerName: 'Red Hat UMB', jmsPlugin: 'v1'):
 * sends one CI message with the JMS messaging plugin's sendCIMessage step and returns what it returns
 * (a SendResult: not Serializable, so do not keep it in a variable across later steps; take its
 * messageId).
 *   topic        bare topic name, e.g. VirtualTopic.eng.ci.brew-build.test.complete
 *   body         a Map (serialized to JSON) or a JSON string
 *   properties   JMS message properties (identifier keys; null values are left out)
 *   jmsPlugin    'v1' (plugin 1.x: providerName/messageType/overrides) or 'v2' (plugin 2.x:
 *                sendCIMessage activeMQPublisher(name: ..., ...))
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
    String content = args.body instanceof CharSequence ? args.body.toString() : JsonOutput.toJson(args.body)
    String props = CiMessage.properties(args.properties ?: [:])
    String provider = args.providerName ?: 'Red Hat UMB'
    String api = args.jmsPlugin ?: 'v1'
    if (api == 'v1') {
        return sendCIMessage(
            providerName: provider,
            messageType: 'Custom',
            messageProperties: props,
            messageContent: content,
            overrides: [topic: args.topic],
            failOnError: true)
    }
    if (api == 'v2') {
        return sendCIMessage(activeMQPublisher(
            name: provider,
            messageProperties: props,
            messageContent: content,
            overrides: [topic: args.topic],
            failOnError: true))
    }
    error("cvpSendMessage: jmsPlugin: '${api}' is not 'v1' or 'v2'")
}
