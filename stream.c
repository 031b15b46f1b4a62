/*
 * stream.c: the CRLF streamer (stream.h).  Copies a file 32 octets at a
 * time while it looks for LFs in them, putting a CR before each LF that
 * has none and doubling the caller's byte after it.  Trusts nothing in
 * the bytes it reads and reads no further than the length it is given;
 * never opens, stats or names a file.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "fmap.h"
#include "params.h"
#include "stream.h"

/*
 * Room feed keeps at the end of out: a doubled byte, a block of 32
 * octets that may grow by 32 (a CR at each LF, a doubled byte after
 * it), and one more copy of 32 past that.
 */
#define SLACK		128

/* How far past its end feed may look: a block of 32, and then 32. */
#define LOOK_PAST	64

/*
 * How far ahead feed asks for what it reads next.  A mapped file is read
 * straight from the page cache, whose pages lie anywhere in memory, and
 * the processor's own prefetching stops at each page's end; without
 * this, the streamer waits on memory for every page (bench/RESULTS.md).
 * A prefetch never faults, so it may point past the mapping.
 */
#define PREFETCH	2048

/* Octets of the CRLF form so far. */
uint64_t
stream_sent(const struct stream *x)
{
	return x->flushed + x->olen - x->stuffed;
}

static int
flush(struct stream *x)
{
	size_t n = x->olen;

	x->olen = 0;
	x->flushed += n;
	return n == 0 || x->put == NULL ? 0 : x->put(x->arg, x->out, n);
}

/* A line ended; whether TOP has sent enough. */
static bool
line_done(struct stream *x, bool empty)
{
	if (!x->in_body) {
		if (!empty)
			return false;
		x->in_body = true;
		return x->body_left == 0;
	}
	return x->body_left > 0 && --x->body_left == 0;
}

/*
 * lf_mask(p): one bit for each of the 16 octets at p that is LF, in
 * order.  SSE2 (every x86-64) has an instruction for it; elsewhere GCC's
 * vectors and a multiply gather the bits.  Without either, feed goes
 * octet by octet.  POP3D_NO_SSE2 and POP3D_NO_VECTORS choose the other
 * paths on x86-64 too, for the tests.
 */
#if defined(__SSE2__) && !defined(POP3D_NO_SSE2) && \
    !defined(POP3D_NO_VECTORS)
#include <emmintrin.h>
#define BLOCKS	1
static inline unsigned
lf_mask(const char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('\n')));
}
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(POP3D_NO_VECTORS)
#define BLOCKS	1
typedef unsigned char v16 __attribute__((vector_size(16)));
static inline unsigned
lf_mask(const char *p)
{
	static const v16 lf = { '\n', '\n', '\n', '\n', '\n', '\n', '\n',
	    '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n' };
	v16 v;
	uint64_t lo, hi;

	memcpy(&v, p, 16);
	v = (v16)(v == lf);
	memcpy(&lo, &v, 8);
	memcpy(&hi, (char *)&v + 8, 8);
	lo = (lo & 0x8080808080808080ULL) >> 7;
	hi = (hi & 0x8080808080808080ULL) >> 7;
	return (unsigned)((lo * 0x0102040810204080ULL) >> 56) |
	    (unsigned)((hi * 0x0102040810204080ULL) >> 56) << 8;
}
#else
#define BLOCKS	0
#endif

/*
 * Runs len octets at p through x; p[-1] is x->prev and 32 octets past
 * len may be read (stream_file's rbuf).
 */
static int
feed(struct stream *x, const char *p, size_t len)
{
	const char *end = p + len;
	char *o = x->out + x->olen, *lim = x->out + POP3D_OUTCHUNK - SLACK;
	bool bol = x->bol, top = x->body_left >= 0, done = x->done;
	unsigned char prev = x->prev, c;
	int stuff = x->stuff;	/* a local: stores through o may alias x */
#if BLOCKS
	uint64_t m, mm;
	unsigned k, ins, has, shift;
#endif

	while (p < end && !done) {
		if (o >= lim) {
			x->olen = (size_t)(o - x->out);
			if (flush(x) == -1)
				return -1;
			o = x->out;
		}
#if BLOCKS
		/*
		 * A block of 32 octets: all out, then at each LF without a CR
		 * before it a CR, and after an LF the byte to double, each
		 * time with the rest of the block copied again one further
		 * on.  A block with at most one LF and nothing to double (the
		 * usual case) goes without a branch that depends on where the
		 * LF is: without one, k is 32, and the second copy is of the
		 * next block, which is written again next time.
		 */
		while (!top && end - p >= 32 && o < lim) {
			__builtin_prefetch(p + PREFETCH);
			if (bol && (unsigned char)*p == stuff) {
				*o++ = (char)stuff;
				x->stuffed++;
			}
			memcpy(o, p, 32);
			m = lf_mask(p) | (uint64_t)lf_mask(p + 16) << 16;
			k = (unsigned)__builtin_ctzll(m | 1ULL << 32);
			has = m != 0;
			if ((m & (m - 1)) == 0 && !(has & (k < 31) &
			    ((unsigned char)p[k + 1] == stuff))) {
				ins = has & ((unsigned char)p[(int)k - 1] != '\r');
				o[k] = '\r';
				memcpy(o + k + ins, p + k, 32);
				o += 32 + ins;
				p += 32;
				bol = k == 31;
				continue;
			}
			for (mm = m, shift = 0; mm != 0; mm &= mm - 1) {
				k = (unsigned)__builtin_ctzll(mm);
				ins = (unsigned char)p[(int)k - 1] != '\r';
				o[k + shift] = '\r';
				memcpy(o + k + shift + ins, p + k, 32);
				shift += ins;
				if (k < 31 && (unsigned char)p[k + 1] == stuff) {
					o[k + 1 + shift] = (char)stuff;
					memcpy(o + k + 2 + shift, p + k + 1, 32);
					shift++;
					x->stuffed++;
				}
			}
			o += 32 + shift;
			p += 32;
			bol = m >> 31 & 1;
		}
		prev = (unsigned char)p[-1];
		if (p >= end)
			break;
		if (o >= lim)
			continue;
#endif
		/* Anything else, one octet at a time. */
		c = (unsigned char)*p++;
		if (bol && c == stuff) {
			*o++ = (char)c;
			x->stuffed++;
		}
		if (c != '\n') {
			*o++ = (char)c;
			bol = false;
			prev = c;
			x->linelen++;
			continue;
		}
		if (prev != '\r')
			*o++ = '\r';
		*o++ = '\n';
		/* Empty: nothing before its LF but a CR. */
		if (top && line_done(x, x->linelen == (prev == '\r' ? 1 : 0)))
			x->done = done = true;
		x->linelen = 0;
		bol = true;
		prev = c;
	}
	x->bol = bol;
	x->prev = prev;
	x->olen = (size_t)(o - x->out);
	return 0;
}

/* The end of the file: a last line without its ending gets one. */
static int
finish(struct stream *x)
{
	if (!x->done && !x->bol) {
		x->bol = true;
		if (POP3D_OUTCHUNK - x->olen < 2 && flush(x) == -1)
			return -1;
		if (x->prev != '\r')
			x->out[x->olen++] = '\r';
		x->out[x->olen++] = '\n';
	}
	return flush(x);
}

/*
 * n octets (at most LOOK_PAST) at p, by way of rbuf: where feed may not
 * look before or past them in place (a file's first octets, a window's
 * last).
 */
static int
feed_copy(struct stream *x, const char *p, size_t n)
{
	char *buf = x->rbuf + 16;

	memcpy(buf, p, n);
	buf[-1] = (char)x->prev;
	return feed(x, buf, n);
}

/*
 * Streams as much of fd's first len octets as windows of it can be
 * mapped for (fmap.h), each read in place: from the octet after the one
 * fed last, with the page before it mapped too (feed looks one octet
 * back), and its last LOOK_PAST octets left to the next window, or fed
 * through rbuf at the file's end.  *off: how far it went, short of len
 * when a window could not be mapped (read(2) does the rest).  A window
 * that read zeros where the file had shrunk ends the stream as
 * STREAM_SHORT, before anything read from it has gone to put.
 */
static enum stream_res
stream_map(struct stream *x, int fd, uint64_t len, uint64_t *off)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), start, o = 0;
	size_t wlen, a, head;
	const char *w;
	bool failed;
	int r;

	while (o < len && !x->done) {
		start = o == 0 ? 0 : (o - 1) & ~(page - 1);
		wlen = len - start < POP3D_MAPWIN ? (size_t)(len - start) :
		    POP3D_MAPWIN;
		if ((w = fmap_open(fd, start, wlen)) == NULL)
			break;
		a = (size_t)(o - start);
		r = 0;
		if (o == 0) {
			head = wlen < LOOK_PAST ? wlen : LOOK_PAST;
			r = feed_copy(x, w, head);
			a = head;
		}
		if (r == 0 && wlen > a + LOOK_PAST) {
			r = feed(x, w + a, wlen - LOOK_PAST - a);
			a = wlen - LOOK_PAST;
		}
		if (r == 0 && start + wlen == len && a < wlen) {
			r = feed_copy(x, w + a, wlen - a);
			a = wlen;
		}
		failed = fmap_failed();
		fmap_close();
		if (failed)
			return STREAM_SHORT;
		if (r == -1)
			return STREAM_PUT;
		o = start + a;
	}
	*off = o;
	return STREAM_OK;
}

/* put, as long as no window has read zeros for the file's octets. */
struct guard {
	int	(*put)(void *, const char *, size_t);
	void	*arg;
};

static int
put_unless_failed(void *arg, const char *p, size_t n)
{
	const struct guard *g = arg;

	if (fmap_failed()) {
		errno = EIO;
		return -1;
	}
	return g->put(g->arg, p, n);
}

enum stream_res
stream_file(struct stream *x, int fd, uint64_t len)
{
	char *buf = x->rbuf + 16;
	struct guard g = { x->put, x->arg };
	enum stream_res r;
	uint64_t off = 0;
	ssize_t n;

	if (len >= POP3D_MAP_MIN) {
		if (x->put != NULL) {
			x->put = put_unless_failed;
			x->arg = &g;
		}
		r = stream_map(x, fd, len, &off);
		x->put = g.put;
		x->arg = g.arg;
		if (r != STREAM_OK)
			return r;
		if (off > 0 && off < len && !x->done &&
		    lseek(fd, (off_t)off, SEEK_SET) == -1)
			return STREAM_READ;
		len -= off;
	}
	while (len > 0 && !x->done) {
		n = file_read(fd, buf, len < POP3D_READBUF ? (size_t)len :
		    POP3D_READBUF);
		if (n == -1)
			return STREAM_READ;
		if (n == 0)
			return STREAM_SHORT;
		len -= (uint64_t)n;
		buf[-1] = (char)x->prev;
		if (feed(x, buf, (size_t)n) == -1)
			return STREAM_PUT;
	}
	return finish(x) == -1 ? STREAM_PUT : STREAM_OK;
}

void
stream_init(struct stream *x, char *out, char *rbuf, int stuff,
    long body_lines, int (*put)(void *, const char *, size_t), void *arg)
{
	*x = (struct stream){ .put = put, .arg = arg, .out = out,
	    .rbuf = rbuf, .stuff = stuff, .body_left = body_lines,
	    .bol = true };
}

bool
stream_stuffed(const struct stream *x)
{
	return x->stuffed > 0;
}
