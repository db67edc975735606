"""The book's constants, defined once: the number of digits and chapter 5's targets for an edit.

An edit "inhibits digit k" when the edited primary's accuracy on the test images of k (its **forget** accuracy)
is at most ``FORGET_TARGET`` and its accuracy on the other digits (its **retain** accuracy) falls by at most
``DROP_TARGET`` against the unedited primary (the **retain drop**). Both are fractions; the book prints them as
percent and points.
"""

N_DIGITS = 10  # MNIST's classes; an intervention is a 0/1 vector over them
FORGET_TARGET = 0.005  # forget accuracy ≤ 0.5 %
DROP_TARGET = 0.003  # retain drop ≤ 0.3 points
