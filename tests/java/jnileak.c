/*
 * libjnileak.so, the native half of tests/java/JniLeak.java (built by
 * t7008 with the JDK's jni.h): a context malloc'd per call and never freed.
 */
#include <jni.h>
#include <stdlib.h>
#include <string.h>

struct context {
	char session[64];
	size_t len;
	char buf[];
};

static struct context *context_new(const char *session, size_t bytes)
{
	struct context *c = malloc(sizeof(*c) + bytes);

	if (!c)
		return NULL;
	strncpy(c->session, session, sizeof(c->session) - 1);
	c->session[sizeof(c->session) - 1] = 0;
	c->len = bytes;
	memset(c->buf, 1, bytes); /* resident, as a real context's buffers are */
	return c;
}

JNIEXPORT jlong JNICALL Java_JniLeak_openContext(JNIEnv *env, jclass cls, jstring session,
						 jint bytes)
{
	const char *s = (*env)->GetStringUTFChars(env, session, NULL);
	struct context *c;

	if (!s)
		return 0;
	c = context_new(s, bytes > 0 ? (size_t)bytes : 0);
	(*env)->ReleaseStringUTFChars(env, session, s);
	return (jlong)(long)c; /* never freed: the leak */
}
