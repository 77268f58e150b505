#define _GNU_SOURCE
#include "harness.h"
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static fingerprint_msg_t msgs[MAX_MSGS];
static int nmsgs;

long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void record_msg(const fingerprint_msg_t *msg) {
    pthread_mutex_lock(&mu);
    if (nmsgs < MAX_MSGS) msgs[nmsgs++] = *msg;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

void msgs_reset(void) {
    pthread_mutex_lock(&mu);
    nmsgs = 0;
    pthread_mutex_unlock(&mu);
}

int msgs_count(void) {
    pthread_mutex_lock(&mu);
    int n = nmsgs;
    pthread_mutex_unlock(&mu);
    return n;
}

fingerprint_msg_t msgs_get(int i) {
    pthread_mutex_lock(&mu);
    fingerprint_msg_t m = msgs[i];
    pthread_mutex_unlock(&mu);
    return m;
}

static void deadline(struct timespec *ts, int timeout_ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int msgs_wait_count(int n, int timeout_ms) {
    struct timespec ts;
    deadline(&ts, timeout_ms);
    pthread_mutex_lock(&mu);
    while (nmsgs < n) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT) break;
    }
    int ok = nmsgs >= n;
    pthread_mutex_unlock(&mu);
    return ok;
}

int msgs_wait_for(int from, int type, int code, int timeout_ms) {
    struct timespec ts;
    deadline(&ts, timeout_ms);
    pthread_mutex_lock(&mu);
    for (int i = from;; i++) {
        while (i >= nmsgs) {
            if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT) {
                pthread_mutex_unlock(&mu);
                return -1;
            }
        }
        if (msgs[i].type == type && (code < 0 || type != FINGERPRINT_ERROR || (int)msgs[i].data.error == code)) {
            pthread_mutex_unlock(&mu);
            return i;
        }
    }
}

void msgs_dump(void) {
    int n = msgs_count();
    for (int i = 0; i < n; i++) {
        fingerprint_msg_t m = msgs_get(i);
        fprintf(stderr, "  msg %d: type %d data %d %u %u\n", i, m.type, m.data.error, m.data.enroll.finger.fid,
                m.data.enumerated.remaining_templates);
    }
}

/* fphal's own functions, resolved from the loaded module (the test does not link it). */
static int (*p_sensor_path)(const fingerprint_device_t *, char *, size_t);
static int (*p_mint)(const uint8_t *, size_t, uint64_t, uint64_t, uint8_t *, size_t);
static int (*p_verify)(const uint8_t *, size_t, const uint8_t *, size_t);
static int (*p_last_wake)(const fingerprint_device_t *, uint64_t *);
static const char *(*p_version)(void);

int fphal_device_sensor_path(const fingerprint_device_t *dev, char *buf, size_t len) { return p_sensor_path(dev, buf, len); }
int fphal_auth_token_mint(const uint8_t *key, size_t key_len, uint64_t challenge, uint64_t user_id, uint8_t *token, size_t token_len) {
    return p_mint(key, key_len, challenge, user_id, token, token_len);
}
int fphal_auth_token_verify(const uint8_t *key, size_t key_len, const uint8_t *token, size_t token_len) {
    return p_verify(key, key_len, token, token_len);
}
int fphal_device_last_wake_ns(const fingerprint_device_t *dev, uint64_t *out_ns) { return p_last_wake(dev, out_ns); }
const char *fphal_version(void) { return p_version(); }

void load_module(const char *path, loaded_t *out) {
    memset(out, 0, sizeof *out);
    void *h = dlopen(path, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    fingerprint_module_t *hmi = (fingerprint_module_t *)dlsym(h, HAL_MODULE_INFO_SYM_AS_STR);
    CHECK(hmi != NULL);
    CHECK(strcmp(hmi->common.id, FINGERPRINT_HARDWARE_MODULE_ID) == 0);
    hmi->common.dso = h; /* libhardware writes here: HMI must be writable */
    out->dso = h;
    *(void **)&p_sensor_path = dlsym(h, "fphal_device_sensor_path");
    *(void **)&p_mint = dlsym(h, "fphal_auth_token_mint");
    *(void **)&p_verify = dlsym(h, "fphal_auth_token_verify");
    *(void **)&p_last_wake = dlsym(h, "fphal_device_last_wake_ns");
    *(void **)&p_version = dlsym(h, "fphal_version");
    CHECK(p_sensor_path && p_mint && p_verify && p_last_wake && p_version);
    out->module = hmi;
}

int open_device(loaded_t *l) {
    hw_device_t *d = NULL;
    int rc = l->module->common.methods->open(&l->module->common, NULL, &d);
    if (rc != 0) return rc;
    l->dev = (fingerprint_device_t *)d;
    CHECK(l->dev->set_notify(l->dev, record_msg) == 0);
    CHECK(l->dev->notify == record_msg);
    return 0;
}

void close_device(loaded_t *l) {
    CHECK(l->dev->common.close(&l->dev->common) == 0);
    l->dev = NULL;
}

int sensor_connect(fingerprint_device_t *dev) {
    char path[256];
    CHECK(fphal_device_sensor_path(dev, path, sizeof path) == 0);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    CHECK(strlen(path) < sizeof a.sun_path);
    strcpy(a.sun_path, path);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

static int exchange(int fd, const uint8_t *p, size_t n) {
    CHECK(send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n);
    uint8_t r[4096];
    ssize_t got = recv(fd, r, sizeof r, 0);
    CHECK(got >= 6 && r[0] == 1 && r[1] == 0x80);
    return r[4];
}

/* When the last touch's image was taken: a lift waits until the finger has stayed long enough
 * (fphal calls a shorter contact TOO_FAST; its default minimum is 40 ms). */
static long touched_at_ms;

int sensor_touch(int fd, const uint8_t *px, int w, int h, int dpi) {
    enum { MAXP = 60 * 1024 };
    static uint8_t pkt[MAXP];
    size_t total = (size_t)w * h, sent = 0;
    pkt[0] = 1, pkt[1] = 1, pkt[2] = 0, pkt[3] = 0;
    uint16_t hdr[4] = {(uint16_t)w, (uint16_t)h, (uint16_t)dpi, 0};
    memcpy(pkt + 4, hdr, sizeof hdr); /* little-endian host */
    size_t room = MAXP - 12, n = total < room ? total : room;
    memcpy(pkt + 12, px, n);
    sent = n;
    int st = exchange(fd, pkt, 12 + n);
    while (st == 3 && sent < total) {
        pkt[1] = 3;
        n = total - sent < (size_t)(MAXP - 4) ? total - sent : (size_t)(MAXP - 4);
        memcpy(pkt + 4, px + sent, n);
        sent += n;
        st = exchange(fd, pkt, 4 + n);
    }
    touched_at_ms = now_ms();
    return st;
}

int sensor_lift_now(int fd) {
    uint8_t p[4] = {1, 2, 0, 0};
    return exchange(fd, p, 4);
}

int sensor_lift(int fd) {
    long held = now_ms() - touched_at_ms;
    if (held < SENSOR_HOLD_MS) usleep((useconds_t)(SENSOR_HOLD_MS - held) * 1000);
    uint8_t p[4] = {1, 2, 0, 0};
    return exchange(fd, p, 4);
}

void make_finger(uint8_t *px, int w, int h, int finger, float dx, float dy, float degrees) {
    float s = (float)finger;
    float core_x = w * (0.3f + 0.05f * fmodf(s, 7.0f)), core_y = h * (0.35f + 0.04f * fmodf(s, 5.0f));
    float period = 8.5f + fmodf(s, 3.0f);
    float sn = sinf(degrees * 3.14159265f / 180.0f), cs = cosf(degrees * 3.14159265f / 180.0f);
    float mx = w / 2.0f, my = h / 2.0f;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float ux = x - mx - dx, uy = y - my - dy;
            float fx = cs * ux - sn * uy + mx, fy = sn * ux + cs * uy + my;
            float ax = fx - core_x, ay = (fy - core_y) * (1.2f + 0.1f * fmodf(s, 4.0f));
            float r = (finger % 2) ? sqrtf(ax * ax + ay * ay) + 6.0f * sinf(fx / (23.0f + s)) + 5.0f * cosf(fy / (17.0f + 2 * s))
                                   : fy + 14.0f * sinf(fx / (20.0f + s)) + 4.0f * cosf(fx / 9.0f + fy / 31.0f);
            float v = 128.0f + 90.0f * cosf(6.2831853f * r / period);
            px[y * w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

static char test_dir[256];

const char *temp_root(void) {
    const char *dir = getenv("TMPDIR");
    return dir != NULL && dir[0] != '\0' ? dir : "/tmp";
}

const char *setup_config(const char *extra_toml) {
    CHECK((size_t)snprintf(test_dir, sizeof test_dir, "%s/fphal-ctest-XXXXXX", temp_root()) < sizeof test_dir);
    CHECK(mkdtemp(test_dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/fphal.toml", test_dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "[sensor]\nruntime_dir = \"%s\"\n[trustlet]\nkey_dir = \"%s/keys\"\n%s\n", test_dir, test_dir,
            extra_toml ? extra_toml : "");
    fclose(f);
    setenv("FPHAL_CONFIG", path, 1);
    return test_dir;
}

void read_auth_key(const char *dir, uint8_t key[32]) {
    char path[512];
    snprintf(path, sizeof path, "%s/keys/auth_token.key", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fread(key, 1, 32, f) == 32);
    fclose(f);
}

const char *make_group_dir(const char *dir, const char *name) {
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    mkdir(p, 0700);
    return p;
}

int start_enroll(fingerprint_device_t *dev, const uint8_t key[32], uint32_t gid, uint32_t timeout) {
    uint64_t challenge = dev->pre_enroll(dev);
    CHECK(challenge != 0);
    hw_auth_token_t hat;
    CHECK(fphal_auth_token_mint(key, 32, challenge, 0x1234, (uint8_t *)&hat, sizeof hat) == 0);
    return dev->enroll(dev, &hat, gid, timeout);
}

uint32_t enroll_finger(fingerprint_device_t *dev, int sensor, const uint8_t key[32], uint32_t gid, int finger, int samples) {
    static uint8_t px[160 * 160];
    int from = msgs_count();
    CHECK(start_enroll(dev, key, gid, 0) == 0);
    uint32_t fid = 0;
    for (int i = 0; i < samples; i++) {
        make_finger(px, 160, 160, finger, (float)(i % 3) * 16.0f - 16.0f, (float)(i / 3) * 14.0f - 14.0f, (float)(i % 2) * 4.0f);
        CHECK(sensor_touch(sensor, px, 160, 160, 500) == 0);
        int at = msgs_wait_for(from, FINGERPRINT_TEMPLATE_ENROLLING, -1, 5000);
        if (at < 0) {
            msgs_dump();
            CHECK(at >= 0);
        }
        fingerprint_msg_t m = msgs_get(at);
        CHECK(m.data.enroll.finger.gid == gid);
        CHECK(m.data.enroll.samples_remaining == (uint32_t)(samples - 1 - i));
        CHECK(fid == 0 || m.data.enroll.finger.fid == fid);
        fid = m.data.enroll.finger.fid;
        from = at + 1;
        CHECK(sensor_lift(sensor) == 0);
    }
    CHECK(dev->post_enroll(dev) == 0);
    return fid;
}
