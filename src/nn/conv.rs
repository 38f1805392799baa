//! The 2-D convolution layer.

use kiln_ir::{ConvParams, GraphBuilder, Init, Tensor};

/// NCHW convolution with parameters `{name}.weight[O, C/groups, K, K]` and
/// `{name}.bias[O]`, initialized as PyTorch's `nn.Conv2d`.
#[derive(Clone, Debug)]
pub struct Conv2d<'g> {
    pub name: String,
    pub weight: Tensor<'g>,
    pub bias: Option<Tensor<'g>>,
    pub params: ConvParams,
}

impl<'g> Conv2d<'g> {
    /// A `kernel x kernel` convolution with stride 1 and no padding; adjust
    /// with [`Conv2d::with_params`].
    #[track_caller]
    pub fn new(
        b: &'g GraphBuilder,
        name: &str,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
    ) -> Conv2d<'g> {
        Conv2d::with_params(
            b,
            name,
            in_channels,
            out_channels,
            [kernel, kernel],
            ConvParams::default(),
        )
    }

    /// A convolution with explicit stride, padding, dilation and groups.
    #[track_caller]
    pub fn with_params(
        b: &'g GraphBuilder,
        name: &str,
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        params: ConvParams,
    ) -> Conv2d<'g> {
        let per_group = in_channels / params.groups.max(1);
        let fan_in = per_group * kernel[0] * kernel[1];
        let weight = b.param(
            &format!("{name}.weight"),
            &[out_channels, per_group, kernel[0], kernel[1]],
            Init::torch_default(fan_in),
        );
        let bias = b.param(
            &format!("{name}.bias"),
            &[out_channels],
            Init::torch_default(fan_in),
        );
        Conv2d {
            name: name.into(),
            weight,
            bias: Some(bias),
            params,
        }
    }

    /// Applies the convolution to `x[N, C, H, W]`.
    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>) -> Tensor<'g> {
        let y = x.conv2d(self.weight, self.params);
        let y = match self.bias {
            Some(bias) => {
                let o = bias.dims().first().copied().unwrap_or(0);
                y + bias.reshape(&[1, o, 1, 1])
            }
            None => y,
        };
        y.named(&self.name)
    }
}
