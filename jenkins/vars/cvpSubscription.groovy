import com.example.cvp.Values

/**
 * cvpSubscription(topic[, uuid]): the consumer queue a CI-event trigger subscribes to on the company
 * bus, Consumer.rh-jenkins-ci-plugin.<uuid>.<topic>. The bus gives each queue name its own copy of
 * the topic's messages, so two jobs must never share a uuid (they would split the messages between
 * them). Without `uuid`, one is derived from this job's URL (env.JOB_URL, else env.JOB_NAME): stable
 * for the job, different for every job and every Jenkins.
 */
def call(String topic, String uuid = null) {
    if (Values.blank(topic) || topic.startsWith('Consumer.') || topic.startsWith('/')) {
        error("cvpSubscription: topic '${topic}' must be a bare VirtualTopic name, e.g. VirtualTopic.eng.ci.redhat-container-group.test.queued")
    }
    String id = uuid
    if (Values.blank(id)) {
        String seed = Values.firstNonBlank([env?.JOB_URL, env?.JOB_NAME])
        if (seed == null) {
            error('cvpSubscription: neither env.JOB_URL nor env.JOB_NAME is set; pass a uuid (uuidgen)')
        }
        id = UUID.nameUUIDFromBytes(seed.getBytes('UTF-8')).toString()
    }
    return "Consumer.rh-jenkins-ci-plugin.${id}.${topic}".toString()
}
