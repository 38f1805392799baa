//! `+ - * /` and unary `-` on tensors, between tensors and with `f32` scalars
//! on either side, all broadcasting like numpy and reporting mistakes at the
//! user's line.

use super::Tensor;
use crate::error::SourceLoc;
use crate::op::{BinaryOp, UnaryOp};
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $op:ident) => {
        impl<'g> $trait<Tensor<'g>> for Tensor<'g> {
            type Output = Tensor<'g>;
            #[track_caller]
            fn $method(self, rhs: Tensor<'g>) -> Tensor<'g> {
                self.binary(BinaryOp::$op, rhs, SourceLoc::caller())
            }
        }

        impl<'g> $trait<f32> for Tensor<'g> {
            type Output = Tensor<'g>;
            #[track_caller]
            fn $method(self, rhs: f32) -> Tensor<'g> {
                self.binary_scalar(BinaryOp::$op, rhs, false, SourceLoc::caller())
            }
        }

        impl<'g> $trait<Tensor<'g>> for f32 {
            type Output = Tensor<'g>;
            #[track_caller]
            fn $method(self, rhs: Tensor<'g>) -> Tensor<'g> {
                rhs.binary_scalar(BinaryOp::$op, self, true, SourceLoc::caller())
            }
        }
    };
}

binary_operator!(Add, add, Add);
binary_operator!(Sub, sub, Sub);
binary_operator!(Mul, mul, Mul);
binary_operator!(Div, div, Div);

impl<'g> Neg for Tensor<'g> {
    type Output = Tensor<'g>;
    #[track_caller]
    fn neg(self) -> Tensor<'g> {
        self.unary(UnaryOp::Neg, SourceLoc::caller())
    }
}
