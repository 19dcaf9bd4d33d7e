"""Fits the rational tanh that RowKernels' GELU uses: tanh(x) ~ x P(x^2) / Q(x^2) on [0, 9], P and Q of degree 4
with P(0) = Q(0) = 1, near-minimax in relative error, coefficients rounded to float32.

    /work/venv-peft/bin/python scripts/kernels/fit_tanh.py      (numpy and mpmath; about ten seconds)

Method: the rational's error x P - tanh Q is linear in the coefficients; weighting each point by 1 / (tanh Q_prev)
turns it into the relative error of the previous iterate (Loeb's linearisation), and Lawson's iteration (each
point's weight times the square root of its last error) moves the least-squares fit towards the minimax one. Then
the coefficients are rounded to float32 one at a time, highest power first, with the rest refitted around each
rounded one. The script prints the Java literals and the error of a float32 evaluation (numpy, without FMA; the
Java kernel's FMAs are a little more accurate; RowKernelsTest checks the Java side itself).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 30
U = 9.0  # tanh(9) is within 3.1e-8 of 1, half a float ulp below 1: past it float32 tanh is 1
M = N = 4
x = np.unique(np.concatenate([np.linspace(1e-4, U, 8000), U * np.sin(np.linspace(0, np.pi / 2, 4000))[1:]]))
t = np.array([float(mp.tanh(v)) for v in x])
s = x * x
A0 = np.stack([x * s**i for i in range(1, M + 1)] + [-t * s**j for j in range(1, N + 1)], 1)  # p1..p4, q1..q4
b0 = t - x


def coefficients(c):
    return np.concatenate([[1], c[:M]]), np.concatenate([[1], c[M:]])


def solve(fixed, iterations=300):
    free = [k for k in range(M + N) if k not in fixed]
    b = b0 - sum((A0[:, k] * v for k, v in fixed.items()), np.zeros_like(b0))
    w = np.ones_like(x)
    q_prev = np.ones_like(x)
    best = None
    for _ in range(iterations):
        weight = w / (t * q_prev)
        c_free, *_ = np.linalg.lstsq(A0[:, free] * weight[:, None], b * weight, rcond=None)
        c = np.zeros(M + N)
        c[free] = c_free
        for k, v in fixed.items():
            c[k] = v
        p, q = coefficients(c)
        q_prev = np.polyval(q[::-1], s)
        err = (x * np.polyval(p[::-1], s) / q_prev - t) / t
        if best is None or np.abs(err).max() < best[0]:
            best = (np.abs(err).max(), c)
        w = w * np.sqrt(np.abs(err)) + 1e-300
        w /= w.sum()
    return best


e, c = solve({})
print("double coefficients: max relative error %.3g on [0, %g]" % (e, U))
fixed = {}
for k in [M + N - 1, M - 1, M + N - 2, M - 2, M + N - 3, M - 3, M + N - 4, M - 4]:
    fixed[k] = float(np.float32(c[k]))
    if len(fixed) < M + N:
        e, c = solve(fixed)
p, q = (v.astype(np.float32) for v in coefficients(np.array([fixed[k] for k in range(M + N)])))
print("float32 coefficients: max relative error %.3g (exact arithmetic)" % e)
for name, v in (("P", p), ("Q", q)):
    for i in range(1, len(v)):
        print("    private static final float %s%d = %sf;" % (name, i, repr(float(v[i]))))


def in_float32(xv):
    xv = np.float32(xv)
    sv = xv * xv
    P, Q = np.float32(p[-1]), np.float32(q[-1])
    for cc in p[-2::-1]:
        P = P * sv + cc
    for cc in q[-2::-1]:
        Q = Q * sv + cc
    return xv * P / Q


xs = np.linspace(0, U, 3000001).astype(np.float32)
r = in_float32(xs)
exact = np.tanh(xs.astype(np.float64))
ae = np.abs(r - exact)
print("float32 evaluation on [0, %g]: max absolute error %.3g at x = %g, max relative error %.3g"
      % (U, ae.max(), xs[ae.argmax()], (ae[1:] / exact[1:]).max()))
print("first x whose float32 value is >= 1: %g" % xs[np.argmax(r >= 1)])
