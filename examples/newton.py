"""Newton's method with srcgrad.hessian: a small regularized logistic regression.

The loss is plain NumPy.  ``srcgrad.grad`` and ``srcgrad.hessian`` emit its
gradient and its Hessian (forward mode over the generated gradient code), and
Newton's method converges in a handful of steps, where gradient descent needs
hundreds.  The tangent code of the gradient is printed at the end.
"""

import numpy as np

import srcgrad

rng = np.random.default_rng(0)
features = rng.standard_normal((200, 5))
true_weights = np.array([1.5, -2.0, 0.5, 0.0, 1.0])
labels = np.where(features @ true_weights + 0.3 * rng.standard_normal(200) > 0, 1.0, -1.0)


def loss(w):
    """Mean logistic loss plus a small ridge penalty."""
    margins = labels * (features @ w)
    penalty = 0.0
    for k in range(w.shape[0]):          # a loop, to show that control flow is fine
        penalty = penalty + w[k] * w[k]
    return np.mean(np.logaddexp(0.0, -margins)) + 1e-2 * penalty


gradient = srcgrad.grad(loss)
hessian = srcgrad.hessian(loss)
print(f"gradient: {gradient.engine} engine, Hessian: {hessian.engine} engine")

w = np.zeros(5)
for step in range(8):
    g = gradient(w)
    print(f"step {step}: loss {loss(w):.10f}, |gradient| {np.linalg.norm(g):.2e}")
    if np.linalg.norm(g) < 1e-12:
        break
    w = w - np.linalg.solve(hessian(w), g)

assert np.linalg.norm(gradient(w)) < 1e-10, "Newton's method should have converged"
print("weights:", np.round(w, 4))

# The Hessian is symmetric and agrees with central differences of the gradient.
h = hessian(w)
eps = 1e-6
numeric = np.stack([(gradient(w + eps * e) - gradient(w - eps * e)) / (2 * eps)
                    for e in np.eye(5)], axis=1)
assert np.allclose(h, h.T) and np.allclose(h, numeric, atol=1e-6)
print("Hessian matches central differences of the gradient")

print("\nThe Hessian's generated code (the tangent code of the gradient's code):\n")
print(hessian.source)
